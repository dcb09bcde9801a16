"""Reads for appointments: what the portal offers and shows, what the console lists."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import F, QuerySet

from townhall.appointments.links import manage_token_read
from townhall.appointments.models import (
    Appointment,
    AppointmentStatus,
    MeetingService,
    Office,
    Slot,
)
from townhall.appointments.slots import office_calendar
from townhall.cases.models import Case
from townhall.people.models import Citizen

_RELATED = (
    "slot__office",
    "slot__template",
    "slot__service__service_type",
    "case__service_type",
)


def meeting_for_case(case: Case) -> MeetingService | None:
    """The meeting set up for the case's service, if it takes bookings."""
    return MeetingService.objects.filter(service_type_id=case.service_type_id, active=True).first()


def slots_offered(
    *, meeting: MeetingService, now: dt.datetime, exclude: int | None = None
) -> list[Slot]:
    """Slots of `meeting` with a free seat, far enough ahead, on days the office opens."""
    earliest = now + dt.timedelta(hours=meeting.min_notice_hours)
    latest = now + dt.timedelta(days=meeting.book_days_ahead)
    rows = list(
        Slot.objects.filter(
            service=meeting,
            withdrawn=False,
            starts_at__gt=earliest,
            starts_at__lte=latest,
            booked__lt=F("capacity"),
            office__active=True,
        )
        .exclude(pk=exclude or 0)
        .select_related("office")
        .order_by("starts_at", "pk")[:500]
    )
    calendars: dict[int, Any] = {}
    out = []
    for slot in rows:
        calendar = calendars.get(slot.office_id) or office_calendar(slot.office)
        calendars[slot.office_id] = calendar
        if slot.starts_at.astimezone(calendar.tz).date() not in calendar.closed_days:
            out.append(slot)
    return out


@dataclass(frozen=True)
class Day:
    day: dt.date
    slots: list[Slot]


def slots_by_day(slots: list[Slot], tz: dt.tzinfo) -> list[Day]:
    """Slots grouped by their local day, in order."""
    days: dict[dt.date, list[Slot]] = {}
    for slot in slots:
        days.setdefault(slot.starts_at.astimezone(tz).date(), []).append(slot)
    return [Day(day, got) for day, got in days.items()]


def appointment_is_live(appointment: Appointment) -> bool:
    """Whether the appointment is booked and still holds its seat."""
    return appointment.status == AppointmentStatus.BOOKED


def live_appointment_for_case(case: Case) -> Appointment | None:
    """The case's booked appointment still to come (at most one), or None."""
    return (
        Appointment.objects.filter(case=case, status=AppointmentStatus.BOOKED)
        .select_related(*_RELATED)
        .first()
    )


def appointments_for_citizen(citizen: Citizen) -> list[Appointment]:
    """The resident's booked appointments, soonest first."""
    return list(
        Appointment.objects.filter(citizen=citizen, status=AppointmentStatus.BOOKED)
        .select_related(*_RELATED)
        .order_by("slot__starts_at")[:50]
    )


def _parse(public_id: object) -> uuid.UUID | None:
    try:
        return public_id if isinstance(public_id, uuid.UUID) else uuid.UUID(str(public_id))
    except ValueError:
        return None


def appointment_for_citizen(*, public_id: object, citizen: Citizen | None) -> Appointment | None:
    """The appointment if it is this signed-in resident's; None otherwise (one answer for
    "not yours" and "does not exist")."""
    parsed = _parse(public_id)
    if citizen is None or parsed is None:
        return None
    return (
        Appointment.objects.filter(public_id=parsed, citizen=citizen)
        .select_related(*_RELATED)
        .first()
    )


def appointment_for_link(token: str) -> Appointment | None:
    """The appointment a link names, if the link is ours, current (its version) and the
    appointment still booked; None otherwise."""
    read = manage_token_read(token)
    if read is None:
        return None
    public_id, version = read
    return (
        Appointment.objects.filter(
            public_id=public_id, version=version, status=AppointmentStatus.BOOKED
        )
        .select_related(*_RELATED)
        .first()
    )


def appointment_by_public_id(public_id: object) -> Appointment | None:
    """The appointment (staff pages check access to its case separately)."""
    parsed = _parse(public_id)
    if parsed is None:
        return None
    return Appointment.objects.filter(public_id=parsed).select_related(*_RELATED, "citizen").first()


def offices_for(jurisdiction_ids: frozenset[int] | None) -> QuerySet[Office]:
    """Active offices, of the given councils only (None: all)."""
    qs = Office.objects.filter(active=True)
    if jurisdiction_ids is not None:
        qs = qs.filter(jurisdiction_id__in=jurisdiction_ids)
    return qs.order_by("name")


def day_list(*, office: Office, day: dt.date) -> list[Appointment]:
    """The office's appointments of `day` (local time), booked or done, in time order."""
    tz = office_calendar(office).tz
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return list(
        Appointment.objects.filter(
            slot__office=office,
            slot__starts_at__gte=start,
            slot__starts_at__lt=start + dt.timedelta(days=1),
        )
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related(*_RELATED, "slot__staff", "citizen")
        .order_by("slot__starts_at", "seat")
    )
