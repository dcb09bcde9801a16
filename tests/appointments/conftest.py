"""Fixtures: an office, a service that needs a meeting, templates every day 09:00-10:00,
the slots of the coming weeks, and a resident's report signed in as its owner."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from townhall.appointments.models import MeetingService, Office, Slot, SlotTemplate
from townhall.appointments.selectors import slots_offered
from townhall.appointments.slots import slots_generate
from townhall.cases.models import Case
from townhall.core import clock
from townhall.portal.accounts import sign_in_token
from townhall.portal.services import Location, report_submit


@pytest.fixture
def office(town: Any) -> Office:
    return Office.objects.create(jurisdiction=town, name="Town Hall", address="1 Main Street")


@pytest.fixture
def meeting(pothole: Any) -> MeetingService:
    return MeetingService.objects.create(service_type=pothole, min_notice_hours=2)


def make_templates(
    office: Office, meeting: MeetingService, *, capacity: int = 1
) -> list[SlotTemplate]:
    return [
        SlotTemplate.objects.create(
            office=office,
            service=meeting,
            weekday=day,
            starts=dt.time(9, 0),
            ends=dt.time(10, 0),
            slot_minutes=15,
            capacity=capacity,
        )
        for day in range(7)
    ]


@pytest.fixture
def templates(office: Office, meeting: MeetingService) -> list[SlotTemplate]:
    return make_templates(office, meeting)


@pytest.fixture
def slots(templates: list[SlotTemplate], meeting: MeetingService) -> list[Slot]:
    slots_generate(now=clock.now(), days=14)
    return slots_offered(meeting=meeting, now=clock.now())


def submit(service: Any, email: str, name: str = "Maria", answers: Any = None) -> Case:
    return report_submit(
        service_type=service,
        location=Location(42.36, -71.09, "12 Elm Street", ""),
        description="Deep hole outside number 12",
        answers={"size": "large"} if answers is None else answers,
        email=email,
        name=name,
    )


@pytest.fixture
def report(pothole: Any, meeting: MeetingService) -> Case:
    return submit(pothole, "maria@example.com")


def sign_in(client: Client, email: str) -> Client:
    response = client.post(f"/account/sign-in/{sign_in_token(email)}/")
    assert response.status_code == 302
    return client


@pytest.fixture
def owner(client: Client, report: Case) -> Client:
    return sign_in(client, "maria@example.com")
