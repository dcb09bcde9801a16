"""Dashboards (/console/insights/): figures, breakdowns, hot spots, the cases behind each
figure, staff performance for supervisors; every table as CSV or Excel (`?format=`).
They read from the read replica when there is one (core/routers.py)."""

from django.urls import URLPattern, path

from townhall.console.views.insights import dashboard_view, drilldown_view
from townhall.console.views.insights_forecast import forecast_view
from townhall.console.views.insights_staff import staff_view
from townhall.core.routers import reading_from_replica

urlpatterns: list[URLPattern] = [
    path("insights/", reading_from_replica()(dashboard_view), name="insights"),
    path("insights/cases/", reading_from_replica()(drilldown_view), name="insights-cases"),
    path("insights/staff/", reading_from_replica()(staff_view), name="insights-staff"),
    path("insights/forecast/", reading_from_replica()(forecast_view), name="insights-forecast"),
]
