"""The caseworker's side: the day's list per office, the prepared appointment page (case,
answers, resident's other requests, history, eligibility with its explanation) and the
outcome; staff of another department get a 404; bad filters a clear 400."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.appointments.conftest import submit
from tests.console.conftest import _staff
from townhall.appointments.models import Appointment, AppointmentStatus, MeetingService, Slot
from townhall.appointments.services import appointment_book
from townhall.catalog.models import Department
from townhall.core import clock
from townhall.people.roles import StaffRole

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def booked(report: Any, slots: list[Slot], meeting: MeetingService, pothole: Any) -> Appointment:
    meeting.programme = "bulky_waste_waiver"
    meeting.save()
    submit(pothole, "maria@example.com")  # an earlier request of hers on another day
    return appointment_book(
        case=report, citizen=report.reporter, slot_id=slots[0].pk, now=clock.now()
    )


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def keisha(town: Any) -> Client:
    return _client(_staff("keisha", StaffRole.CASEWORKER, Department.objects.get(code="dpw")))


@pytest.fixture
def daniel(town: Any) -> Client:
    return _client(_staff("daniel", StaffRole.CASEWORKER, Department.objects.get(code="isd")))


def _day(appointment: Appointment) -> str:
    return timezone.localtime(appointment.slot.starts_at).date().isoformat()


def test_the_days_list_shows_the_appointment(
    keisha: Client, booked: Appointment, office: Any
) -> None:
    html = keisha.get(
        f"/console/appointments/?office={office.pk}&day={_day(booked)}"
    ).content.decode()
    assert booked.case.reference in html and "Maria" in html
    assert f"/console/appointments/{booked.public_id}/" in html


def test_the_appointment_page_has_everything_known(keisha: Client, booked: Appointment) -> None:
    response = keisha.get(f"/console/appointments/{booked.public_id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Deep hole outside number 12" in html  # what they wrote
    assert "How big is it?" in html and "Large" in html  # the answers, labelled
    assert "maria@example.com" in html  # contacts
    assert "Their other requests" in html and "None: this is their first." not in html
    assert "need_more_information" in html  # eligibility, with explanation per condition
    assert "History" in html


def test_staff_of_another_department_get_404(
    daniel: Client, booked: Appointment, office: Any
) -> None:
    assert daniel.get(f"/console/appointments/{booked.public_id}/").status_code == 404
    post = daniel.post(f"/console/appointments/{booked.public_id}/outcome/", {"attended": "no"})
    assert post.status_code == 404
    html = daniel.get(
        f"/console/appointments/?office={office.pk}&day={_day(booked)}"
    ).content.decode()
    assert booked.case.reference not in html


def test_bad_filters_get_a_clear_400(keisha: Client, booked: Appointment) -> None:
    for query in ("day=tomorrow", "day=2026-13-45", "office=999999", "office=x"):
        response = keisha.get(f"/console/appointments/?{query}")
        assert response.status_code == 400
        assert "There is a problem" in response.content.decode()


def test_recording_a_no_show_and_an_outcome(
    keisha: Client, booked: Appointment, monkeypatch: Any
) -> None:
    url = f"/console/appointments/{booked.public_id}/outcome/"
    too_early = keisha.post(url, {"attended": "yes", "outcome": "Waiver agreed"})
    assert (
        too_early.status_code == 400
        and "once the appointment has started" in too_early.content.decode()
    )
    assert keisha.post(url, {}).status_code == 400  # nothing chosen
    on_the_day = booked.slot.starts_at + dt.timedelta(minutes=15)
    monkeypatch.setattr(clock, "now", lambda: on_the_day)
    assert keisha.post(url, {"attended": "yes", "outcome": "Waiver agreed"}).status_code == 302
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.ATTENDED and booked.outcome == "Waiver agreed"
    assert (
        "Waiver agreed" in keisha.get(f"/console/appointments/{booked.public_id}/").content.decode()
    )


def test_staff_who_may_not_work_cases_see_but_do_not_record(
    booked: Appointment, monkeypatch: Any
) -> None:
    from django.contrib.auth import get_user_model

    from townhall.catalog.services import department_member_add

    reader = get_user_model().objects.create_user(username="reader", is_staff=True)
    department_member_add(department=Department.objects.get(code="dpw"), user=reader)
    client = _client(reader)
    page = client.get(f"/console/appointments/{booked.public_id}/")
    assert page.status_code == 200 and "Record the outcome" not in page.content.decode()
    monkeypatch.setattr(clock, "now", lambda: booked.slot.starts_at + dt.timedelta(minutes=5))
    url = f"/console/appointments/{booked.public_id}/outcome/"
    assert client.post(url, {"attended": "no"}).status_code == 403
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED
