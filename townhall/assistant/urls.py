"""Routes of the assistant's HTTP API (dialogue, ratings)."""

from django.urls import URLPattern

app_name = "assistant"
urlpatterns: list[URLPattern] = []
