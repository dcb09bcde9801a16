"""Booking, moving and cancelling appointments; staff recording what happened.

Every change and the message that tells the resident are written in one transaction
(the notification outbox). Concurrency: see `_seat_take`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation

from townhall.appointments.messages import appointment_notice_queue
from townhall.appointments.models import (
    Appointment,
    AppointmentStatus,
    MeetingService,
    Office,
    Slot,
)
from townhall.appointments.selectors import meeting_for_case
from townhall.cases.lifecycle import OPEN_STATUSES
from townhall.cases.models import Case
from townhall.cases.services import case_note_add
from townhall.core.errors import DomainError, NotFound, ValidationFailed
from townhall.people.models import Channel, Citizen


class SlotUnavailable(DomainError):
    """Raise when the chosen slot cannot be booked: gone, past, withdrawn or full."""

    code = "appointments.slot_unavailable"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, details={"slot": [message]})
        self.reason = reason  # "unknown", "past" or "full"


class AlreadyBooked(DomainError):
    """Raise when the case already has an appointment that is still to come."""

    code = "appointments.already_booked"


def _why_unavailable(slot_id: int, meeting: MeetingService, now: dt.datetime) -> SlotUnavailable:
    slot = Slot.objects.filter(pk=slot_id, service=meeting, withdrawn=False).first()
    if slot is None:
        return SlotUnavailable("That time is not one we offer for this request.", reason="unknown")
    if slot.starts_at <= now + dt.timedelta(hours=meeting.min_notice_hours):
        return SlotUnavailable("That time has passed or is too soon to book.", reason="past")
    return SlotUnavailable("That time has just been taken. Choose another.", reason="full")


def _seat_take(*, slot_id: int, meeting: MeetingService, now: dt.datetime) -> tuple[Slot, int]:
    """Take one seat of the slot, inside the caller's transaction; return (slot, seat).

    One conditional UPDATE raises `booked` only while it is below `capacity` and the slot
    is still offered; it also row-locks the slot until the transaction ends, so the seat
    number chosen next is chosen by one booking at a time. Two bookings racing for the last
    seat: the second UPDATE waits for the first to commit, re-reads `booked` and matches no
    row. The partial unique index on (slot, seat) of live bookings and the CHECK
    booked <= capacity stand behind it.
    """
    earliest = now + dt.timedelta(hours=meeting.min_notice_hours)
    # Every condition is on the slot row itself: no join, so PostgreSQL re-checks all of
    # them on the row's newest version after waiting for a racing booking's lock (a join
    # would make Django write `WHERE id IN (subquery)`, whose rows are not re-checked).
    if Office.objects.filter(slots__pk=slot_id, active=False).exists():
        raise SlotUnavailable("That time is not offered any more.", reason="unknown")
    taken = Slot.objects.filter(
        pk=slot_id,
        service=meeting,
        withdrawn=False,
        starts_at__gt=earliest,
        starts_at__lte=now + dt.timedelta(days=meeting.book_days_ahead),
        booked__lt=F("capacity"),
    ).update(booked=F("booked") + 1)
    if not taken:
        raise _why_unavailable(slot_id, meeting, now)
    slot = Slot.objects.select_related("office", "service__service_type").get(pk=slot_id)
    held = set(
        Appointment.objects.filter(slot=slot, status=AppointmentStatus.BOOKED).values_list(
            "seat", flat=True
        )
    )
    seat = next(n for n in range(1, slot.capacity + 1) if n not in held)
    return slot, seat


def _history(appointment: Appointment, what: str, *, actor: Any = None, now: dt.datetime) -> None:
    """An internal note on the case, so its history (and the caseworker) shows the booking."""
    slot = appointment.slot
    when = timezone.localtime(slot.starts_at).strftime("%Y-%m-%d %H:%M")
    with translation.override(settings.LANGUAGE_CODE):  # the site's language, as staff read it
        mode = str(slot.get_mode_display())
    case_note_add(
        case=appointment.case,
        text=f"{what}: {when}, {mode}, {slot.office.name}",
        actor=actor,
        channel=Channel.WEB if actor is None else Channel.STAFF,
        now=now,
    )


def _seat_release(slot_id: int) -> None:
    Slot.objects.filter(pk=slot_id, booked__gt=0).update(booked=F("booked") - 1)


def _slot_id(value: Any) -> int:
    """A slot id from a form, or SlotUnavailable (tampered or empty input)."""
    text = str(value or "")
    if not text.isdigit() or len(text) > 18:
        raise SlotUnavailable("Choose a time from the list.", reason="unknown")
    return int(text)


def appointment_book(
    *, case: Case, citizen: Citizen | None, slot_id: Any, now: dt.datetime, language: str = "en"
) -> Appointment:
    """Book a seat of `slot_id` for `case`; queue the confirmation with its calendar entry.

    Raise SlotUnavailable (unknown, past or full slot), AlreadyBooked (the case has a
    booking still to come) or ValidationFailed (the case takes no appointments).
    """
    meeting = meeting_for_case(case)
    if meeting is None or case.status not in OPEN_STATUSES:
        raise ValidationFailed(
            "This request does not take appointments.", details={"case": ["no appointments"]}
        )
    wanted = _slot_id(slot_id)
    if Appointment.objects.filter(case=case, status=AppointmentStatus.BOOKED).exists():
        raise AlreadyBooked("This request already has an appointment: move it instead.")
    try:
        with transaction.atomic():
            slot, seat = _seat_take(slot_id=wanted, meeting=meeting, now=now)
            appointment = Appointment.objects.create(
                slot=slot,
                seat=seat,
                case=case,
                citizen=citizen,
                language=(language or "en")[:10],
                created_at=now,
                updated_at=now,
            )
            appointment_notice_queue(appointment, event="booked")
            _history(appointment, "Appointment booked", now=now)
    except IntegrityError as exc:  # a second booking for the case committed meanwhile
        raise AlreadyBooked("This request already has an appointment: move it instead.") from exc
    return appointment


def _live_locked(public_id: Any) -> Appointment:
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .filter(public_id=public_id, status=AppointmentStatus.BOOKED)
        .select_related("case", "slot")
        .first()
    )
    if appointment is None:
        raise NotFound("That appointment is not booked any more.")
    return appointment


def appointment_move(*, appointment: Appointment, slot_id: Any, now: dt.datetime) -> Appointment:
    """Move a booked appointment to another slot of its service; tell the resident.

    The appointment keeps its identity (the calendar entry's UID) and gains a version.
    Raise SlotUnavailable or NotFound (cancelled, attended or not the resident's).
    """
    wanted = _slot_id(slot_id)
    with transaction.atomic():
        current = _live_locked(appointment.public_id)
        if current.slot.starts_at <= now:
            raise SlotUnavailable("This appointment has already started.", reason="past")
        if wanted == current.slot_id:
            raise SlotUnavailable("That is the time you already have.", reason="unknown")
        meeting = MeetingService.objects.get(pk=current.slot.service_id)
        # Both slots locked in id order first: two residents swapping times cannot deadlock.
        list(
            Slot.objects.select_for_update()
            .filter(pk__in=[wanted, current.slot_id])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        slot, seat = _seat_take(slot_id=wanted, meeting=meeting, now=now)
        _seat_release(current.slot_id)
        current.slot, current.seat = slot, seat
        current.version += 1
        current.updated_at = now
        current.save(update_fields=["slot", "seat", "version", "updated_at"])
        appointment_notice_queue(current, event="moved")
        _history(current, "Appointment moved", now=now)
    return current


def appointment_cancel(*, appointment: Appointment, now: dt.datetime) -> Appointment:
    """Cancel a booked appointment that has not started; free its seat; tell the resident."""
    with transaction.atomic():
        current = _live_locked(appointment.public_id)
        if current.slot.starts_at <= now:
            raise ValidationFailed(
                "This appointment has already started.", details={"appointment": ["started"]}
            )
        current.status = AppointmentStatus.CANCELLED
        current.version += 1
        current.updated_at = now
        current.save(update_fields=["status", "version", "updated_at"])
        _seat_release(current.slot_id)
        appointment_notice_queue(current, event="cancelled")
        _history(current, "Appointment cancelled by the resident", now=now)
    return current


def appointment_outcome_record(
    *, appointment: Appointment, attended: bool, outcome: str, actor: Any, now: dt.datetime
) -> Appointment:
    """Record that the resident came (with what was decided) or did not come."""
    with transaction.atomic():
        current = _live_locked(appointment.public_id)
        if current.slot.starts_at > now:
            raise ValidationFailed(
                "Record the outcome once the appointment has started.",
                details={"appointment": ["not yet"]},
            )
        current.status = AppointmentStatus.ATTENDED if attended else AppointmentStatus.NO_SHOW
        current.outcome = outcome.strip()[:5000]
        current.recorded_by = actor
        current.updated_at = now
        current.save(update_fields=["status", "outcome", "recorded_by", "updated_at"])
        what = "Appointment attended" if attended else "Appointment missed (no-show)"
        _history(current, what, actor=actor, now=now)
    return current
