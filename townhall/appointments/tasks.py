"""Task entry points for appointments: thin wrappers that call a service."""

from __future__ import annotations

from django_tasks import task

from townhall.appointments.reminders import reminders_queue
from townhall.appointments.slots import slots_generate
from townhall.core import clock


@task()
def slots_generate_task() -> int:
    """Make the slots of the rolling window ahead (safe to repeat)."""
    return slots_generate(now=clock.now())


@task()
def reminders_queue_task() -> int:
    """Queue the day-before appointment reminders that are due (safe to repeat)."""
    return reminders_queue(now=clock.now())
