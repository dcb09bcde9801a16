"""Applying after an eligibility check or a permit finder (included by portal/urls.py)."""

from django.urls import URLPattern, path

from townhall.portal import apply_views

urlpatterns: list[URLPattern] = [
    path("apply/start/", apply_views.apply_start_view, name="apply-start"),
    path("apply/<str:token>/", apply_views.apply_view, name="apply"),
    path("apply/<str:token>/done/", apply_views.apply_done_view, name="apply-done"),
]
