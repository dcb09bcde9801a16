"""Dashboards (/console/insights/): figures, breakdowns, hot spots, the cases behind each
figure, staff performance for supervisors; every table as CSV or Excel (`?format=`)."""

from django.urls import URLPattern, path

from townhall.console.views.insights import dashboard_view, drilldown_view
from townhall.console.views.insights_forecast import forecast_view
from townhall.console.views.insights_staff import staff_view

urlpatterns: list[URLPattern] = [
    path("insights/", dashboard_view, name="insights"),
    path("insights/cases/", drilldown_view, name="insights-cases"),
    path("insights/staff/", staff_view, name="insights-staff"),
    path("insights/forecast/", forecast_view, name="insights-forecast"),
]
