"""Everyone's reports: the public map and list at /reports/ (portal.reports_views)."""

from django.urls import URLPattern, path

from townhall.portal import reports_views

urlpatterns: list[URLPattern] = [
    path("reports/", reports_views.reports_view, name="reports"),
]
