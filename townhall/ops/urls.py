"""Operators' endpoints (readiness, metrics): outside the portal's language prefix."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
