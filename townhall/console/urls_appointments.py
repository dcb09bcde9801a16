"""Console URLs of appointments (issue 21): the day's list per office, one appointment
with everything known already, and its outcome (console/views/appointments.py)."""

from django.urls import URLPattern, path

from townhall.console.views.appointments import (
    appointment_outcome_view,
    appointment_view,
    appointments_day_view,
)

urlpatterns: list[URLPattern] = [
    path("appointments/", appointments_day_view, name="appointments"),
    path("appointments/<uuid:public_id>/", appointment_view, name="appointment"),
    path(
        "appointments/<uuid:public_id>/outcome/",
        appointment_outcome_view,
        name="appointment-outcome",
    ),
]
