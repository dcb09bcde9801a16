"""The day-before reminder: one message per appointment version, queued by a sweep.

The sweep runs every few minutes (settings.TOWNHALL_PERIODIC_TASKS); it picks booked
appointments starting tomorrow in the council's time whose current version has not been
reminded yet, queues the reminder (outbox key `appt:<id>:reminder:<version>`) and marks the
version reminded in the same transaction. Running it again queues nothing; a moved
appointment (new version) gets its own reminder.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import F

from townhall.appointments.messages import appointment_notice_queue
from townhall.appointments.models import Appointment, AppointmentStatus


def reminders_queue(*, now: dt.datetime) -> int:
    """Queue tomorrow's reminders not queued yet; return how many were queued."""
    tz = ZoneInfo(settings.TIME_ZONE)
    tomorrow = now.astimezone(tz).date() + dt.timedelta(days=1)
    start = dt.datetime.combine(tomorrow, dt.time.min, tzinfo=tz)
    end = start + dt.timedelta(days=1)
    ids = list(
        Appointment.objects.filter(
            status=AppointmentStatus.BOOKED,
            slot__starts_at__gte=start,
            slot__starts_at__lt=end,
            reminded_version__lt=F("version"),
        ).values_list("pk", flat=True)
    )
    count = 0
    for pk in ids:
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
