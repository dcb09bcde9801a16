"""Appointments settings (issue 21, docs/appointments.md): their periodic jobs, their share
of a resident's data, and the calendar entry their e-mails carry."""

from __future__ import annotations

from typing import Any


def appointments_periodic_tasks() -> list[tuple[str, int]]:
    """The appointments' jobs in TOWNHALL_PERIODIC_TASKS (dotted path, seconds)."""
    return [
        # Slots of the rolling window ahead, made from the slot templates (safe to repeat).
        ("townhall.appointments.tasks.slots_generate_task", 3600),
        # Day-before reminders, once per appointment and version.
        ("townhall.appointments.tasks.reminders_queue_task", 600),
    ]


def appointments_settings() -> dict[str, Any]:
    """TOWNHALL_PRIVACY_PARTS (added to) and TOWNHALL_NOTIFY_ATTACHMENTS of appointments."""
    return {
        # A resident's appointments are part of their data export and erasure
        # (intake/privacy_parts.py).
        "TOWNHALL_PRIVACY_PARTS": ["townhall.appointments.privacy"],
        # E-mails about an appointment carry its calendar entry, made when sent
        # (notify/attachments.py).
        "TOWNHALL_NOTIFY_ATTACHMENTS": dict.fromkeys(
            ["appt_booked", "appt_moved", "appt_cancelled", "appt_reminder"],
            "townhall.appointments.ical.notification_ical",
        ),
    }
