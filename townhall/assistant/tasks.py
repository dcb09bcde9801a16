"""Background entry points of the assistant (thin: each calls a service)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django_tasks import task

from townhall.assistant.services import conversations_abandon_idle, conversations_expire
from townhall.core import clock
from townhall.intake.retention import retention_policy


@task()
def conversations_abandon_idle_task() -> int:
    """Close idle conversations; those with no outcome count as abandoned."""
    idle = timedelta(minutes=settings.TOWNHALL_ASSISTANT_IDLE_MINUTES)
    return conversations_abandon_idle(idle=idle)


@task()
def conversations_expire_task() -> int:
    """Blank transcripts past the council's retention period for raw messages (0: kept)."""
    days = retention_policy().raw_message_days
    if not days:
        return 0
    return conversations_expire(before=clock.now() - timedelta(days=days))
