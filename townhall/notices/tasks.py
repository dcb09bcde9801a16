"""Background tasks of the notices app (scheduled in settings.TOWNHALL_PERIODIC_TASKS)."""

from __future__ import annotations

from django_tasks import task

from townhall.notices.services import notices_expire


@task()
def notices_expire_task() -> int:
    """Record published notices whose end has passed as expired; return how many."""
    return notices_expire()
