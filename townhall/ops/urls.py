"""Operators' endpoints (readiness, metrics): outside the portal's language prefix."""

from django.urls import URLPattern, path

from townhall.ops import views

app_name = "ops"
urlpatterns: list[URLPattern] = [
    path("readyz", views.readyz_view, name="readyz"),
    path("metrics", views.metrics_view, name="metrics"),
]
