"""The background task queue as operators see it: depth and the oldest runnable task's age."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, Count, F, Min, When
from django.utils import timezone
from django_tasks import task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max


@dataclass(frozen=True)
class QueueState:
    ready: int  # tasks a worker could start now
    oldest_age_seconds: float  # how long the longest-waiting of them has been runnable


def queue_is_database() -> bool:
    """Whether tasks go through the database worker (otherwise there is no queue to see)."""
    return isinstance(task_backends["default"], DatabaseBackend)


def queue_state() -> QueueState:
    """One query: the READY tasks whose run_after has passed, and the oldest one's age.

    A task is runnable from its run_after, or from when it was enqueued if it has none.
    """
    row = DBTaskResult.objects.ready().aggregate(
        ready=Count("id"),
        since=Min(
            Case(When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after"))
        ),
    )
    since = row["since"]
    age = max(0.0, (timezone.now() - since).total_seconds()) if since is not None else 0.0
    return QueueState(ready=row["ready"], oldest_age_seconds=age)
