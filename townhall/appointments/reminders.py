"""The day-before reminder: one message per appointment version, queued by a sweep.

The sweep runs every few minutes (settings.TOWNHALL_PERIODIC_TASKS); it picks booked
appointments starting tomorrow in their office's time (its calendar's zone) whose
current version has not been reminded yet, queues the reminder (outbox key
`appt:<id>:reminder:<version>`) and marks the version reminded in the same transaction.
Running it again queues nothing; a moved appointment (new version) gets its own reminder.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F

from townhall.appointments.messages import appointment_notice_queue
from townhall.appointments.models import Appointment, AppointmentStatus
from townhall.appointments.slots import office_calendar


def _due_ids(now: dt.datetime) -> list[int]:
    """Booked, not yet reminded at their version, starting tomorrow in their office's time."""
    rows = (
        Appointment.objects.filter(
            status=AppointmentStatus.BOOKED,
            slot__starts_at__gt=now,
            slot__starts_at__lt=now + dt.timedelta(hours=50),
            reminded_version__lt=F("version"),
        )
        .select_related("slot__office")
        .only("pk", "slot__starts_at", "slot__office")
    )
    zones: dict[int, ZoneInfo] = {}
    due = []
    for appointment in rows:
        office = appointment.slot.office
        if office.pk not in zones:
            zones[office.pk] = office_calendar(office).tz
        tz = zones[office.pk]
        tomorrow = now.astimezone(tz).date() + dt.timedelta(days=1)
        if appointment.slot.starts_at.astimezone(tz).date() == tomorrow:
            due.append(appointment.pk)
    return due


def reminders_queue(*, now: dt.datetime) -> int:
    """Queue tomorrow's reminders not queued yet; return how many were queued."""
    count = 0
    for pk in _due_ids(now):
        with transaction.atomic():
            appointment = (
                Appointment.objects.select_for_update(of=("self",))
                .select_related("slot__office", "slot__service__service_type", "case", "citizen")
                .filter(pk=pk, status=AppointmentStatus.BOOKED, reminded_version__lt=F("version"))
                .first()
            )
            if appointment is None:
                continue
            appointment_notice_queue(appointment, event="reminder")
            Appointment.objects.filter(pk=pk).update(reminded_version=appointment.version)
            count += 1
    return count
