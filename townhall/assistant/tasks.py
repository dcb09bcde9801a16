"""Background entry points of the assistant (thin: each calls a service)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django_tasks import task

from townhall.assistant.services import conversations_abandon_idle


@task()
def conversations_abandon_idle_task() -> int:
    """Close idle conversations; those with no outcome count as abandoned."""
    idle = timedelta(minutes=settings.TOWNHALL_ASSISTANT_IDLE_MINUTES)
    return conversations_abandon_idle(idle=idle)
