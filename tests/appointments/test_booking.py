"""Booking, moving and cancelling through the services; the messages and their calendar
entries; the day-before reminder sent once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from icalendar import Calendar

from townhall.appointments.models import Appointment, AppointmentStatus, Slot
from townhall.appointments.reminders import reminders_queue
from townhall.appointments.services import (
    AlreadyBooked,
    SlotUnavailable,
    appointment_book,
    appointment_cancel,
    appointment_move,
    appointment_outcome_record,
)
from townhall.cases.models import Case
from townhall.core import clock
from townhall.core.errors import NotFound
from townhall.notify.models import Notification
from townhall.notify.sending import notification_send_due

pytestmark = pytest.mark.django_db


def _book(report: Case, slot: Slot) -> Appointment:
    return appointment_book(
        case=report, citizen=report.reporter, slot_id=slot.pk, now=clock.now(), language="en"
    )


def test_booking_takes_a_seat_and_queues_the_confirmation(report: Case, slots: list[Slot]) -> None:
    appointment = _book(report, slots[0])
    slot = Slot.objects.get(pk=slots[0].pk)
    assert slot.booked == 1 and appointment.seat == 1
    note = Notification.objects.get(kind="appt_booked")
    assert note.to == "maria@example.com" and note.case_id == report.pk
    assert report.reference in note.body and "/appointments/link/" in note.body
    assert "maria" not in note.body.split("/appointments/link/")[1]  # no address in the link
    from townhall.cases.models import CaseEvent

    notes = [e.content.get("text", "") for e in CaseEvent.objects.filter(case=report, kind="note")]
    assert any(n.startswith("Appointment booked: ") for n in notes)  # on the case's history


def test_the_confirmation_email_carries_the_calendar_entry(report: Case, slots: list[Slot]) -> None:
    appointment = _book(report, slots[0])
    notification_send_due()
    sent = [m for m in mail.outbox if m.to == ["maria@example.com"] and "appointment" in m.subject]
    assert len(sent) == 1
    name, content, mimetype = sent[0].attachments[0]
    assert name == "appointment.ics" and mimetype.startswith("text/calendar")
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert str(event["UID"]) == f"{appointment.public_id}@townhall"
    assert event.decoded("DTSTART") == slots[0].starts_at
    assert event["STATUS"] == "CONFIRMED" and int(event["SEQUENCE"]) == 1


def test_a_full_slot_and_a_past_slot_are_refused(
    report: Case, slots: list[Slot], pothole: Any
) -> None:
    from tests.appointments.conftest import submit

    _book(report, slots[0])
    other = submit(pothole, "other@example.com", "Other")
    with pytest.raises(SlotUnavailable) as full:
        appointment_book(case=other, citizen=other.reporter, slot_id=slots[0].pk, now=clock.now())
    assert full.value.reason == "full"
    later = clock.now() + dt.timedelta(days=30)
    with pytest.raises(SlotUnavailable) as past:
        appointment_book(case=other, citizen=other.reporter, slot_id=slots[1].pk, now=later)
    assert past.value.reason == "past"
    for tampered in ("0", "-1", "abc", "", "9" * 30, str(slots[-1].pk + 1000)):
        with pytest.raises(SlotUnavailable):
            appointment_book(case=other, citizen=other.reporter, slot_id=tampered, now=clock.now())
    assert Slot.objects.get(pk=slots[1].pk).booked == 0


def test_a_case_gets_one_live_appointment(report: Case, slots: list[Slot]) -> None:
    _book(report, slots[0])
    with pytest.raises(AlreadyBooked):
        _book(report, slots[1])
    assert Slot.objects.get(pk=slots[1].pk).booked == 0


def test_moving_frees_the_old_seat_and_raises_the_version(report: Case, slots: list[Slot]) -> None:
    appointment = _book(report, slots[0])
    moved = appointment_move(appointment=appointment, slot_id=slots[2].pk, now=clock.now())
    assert moved.public_id == appointment.public_id and moved.version == 2
    assert Slot.objects.get(pk=slots[0].pk).booked == 0
    assert Slot.objects.get(pk=slots[2].pk).booked == 1
    assert Notification.objects.filter(kind="appt_moved").count() == 1


def test_cancelling_frees_the_seat_and_tells_the_calendar(report: Case, slots: list[Slot]) -> None:
    appointment = _book(report, slots[0])
    appointment_cancel(appointment=appointment, now=clock.now())
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert Slot.objects.get(pk=slots[0].pk).booked == 0
    with pytest.raises(NotFound):
        appointment_cancel(appointment=appointment, now=clock.now())
    mail.outbox.clear()
    notification_send_due()
    cancel = next(m for m in mail.outbox if "cancelled" in m.subject)
    event = Calendar.from_ical(cancel.attachments[0][1])
    assert event["METHOD"] == "CANCEL"
    assert event.walk("VEVENT")[0]["STATUS"] == "CANCELLED"
    # the seat is free again: someone else (here the same case) can book it
    assert _book(report, slots[0]).seat == 1


def test_the_reminder_is_queued_once_the_day_before(report: Case, slots: list[Slot]) -> None:
    appointment = _book(report, slots[0])
    day_before = slots[0].starts_at - dt.timedelta(hours=20)
    two_days_before = slots[0].starts_at - dt.timedelta(hours=48)
    assert reminders_queue(now=two_days_before) == 0
    assert reminders_queue(now=day_before) == 1
    assert reminders_queue(now=day_before) == 0
    assert reminders_queue(now=day_before + dt.timedelta(hours=1)) == 0
    assert Notification.objects.filter(kind="appt_reminder").count() == 1
    appointment.refresh_from_db()
    assert appointment.reminded_version == appointment.version


def test_outcome_and_no_show_are_recorded_on_the_day(
    report: Case, slots: list[Slot], caseworker: Any
) -> None:
    appointment = _book(report, slots[0])
    with pytest.raises(Exception, match="once the appointment has started"):
        appointment_outcome_record(
            appointment=appointment,
            attended=True,
            outcome="x",
            actor=caseworker,
            now=slots[0].starts_at - dt.timedelta(days=2),
        )
    done = appointment_outcome_record(
        appointment=appointment,
        attended=False,
        outcome="",
        actor=caseworker,
        now=slots[0].starts_at + dt.timedelta(minutes=20),
    )
    assert done.status == AppointmentStatus.NO_SHOW and done.recorded_by == caseworker
