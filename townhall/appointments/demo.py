"""The demo town's appointments (`townhall demo`): an office, a service that needs a
meeting, weekly slot templates held by one caseworker, and the slots of the coming weeks.
Safe to run again: what is there is found, nothing is made twice."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model

from townhall.appointments.models import MeetingService, Office, SlotTemplate
from townhall.appointments.slots import slots_generate
from townhall.catalog.models import Jurisdiction, ServiceType
from townhall.core import clock

# Tuesdays and Thursdays, 9:00 to 12:00, half-hour meetings.
WEEKDAYS = (1, 3)


def demo_appointments_load(
    *, jurisdiction_slug: str, service_code: str, staff_username: str, office_name: str
) -> int:
    """Make what is missing of the demo's meetings; return how many slots were made."""
    jurisdiction = Jurisdiction.objects.get(slug=jurisdiction_slug)
    office, _ = Office.objects.get_or_create(
        jurisdiction=jurisdiction,
        name=office_name,
        defaults={
            "address": "1 Main Street",
            "directions": "Ground floor, the housing desk on the left of the entrance.",
        },
    )
    meeting, _ = MeetingService.objects.get_or_create(
        service_type=ServiceType.objects.get(jurisdiction=jurisdiction, code=service_code),
        defaults={"book_days_ahead": 28, "min_notice_hours": 2},
    )
    staff = get_user_model().objects.filter(username=staff_username).first()
    for weekday in WEEKDAYS:
        SlotTemplate.objects.get_or_create(
            office=office,
            service=meeting,
            weekday=weekday,
            starts=dt.time(9, 0),
            defaults={"ends": dt.time(12, 0), "slot_minutes": 30, "staff": staff},
        )
    return slots_generate(now=clock.now(), templates=SlotTemplate.objects.filter(office=office))
