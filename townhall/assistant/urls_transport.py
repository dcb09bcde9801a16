"""Routes of the assistant transport (HTTP fallback polling, photo upload)."""

from django.urls import URLPattern

app_name = "assistant_transport"
urlpatterns: list[URLPattern] = []
