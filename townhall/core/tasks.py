"""Enqueue follow-up work tied to the transaction that caused it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django_tasks.base import Task


def _backend_shares_the_database(task: Task[Any, Any]) -> bool:
    from django_tasks_db import DatabaseBackend

    return isinstance(task.get_backend(), DatabaseBackend) and not settings.DATABASE_ROUTERS


def enqueue_on_commit(task: Task[Any, Any], **kwargs: Any) -> None:
    """Enqueue `task` so that it runs only if the current transaction commits.

    With the database task backend on the same database, the task row is written inside
    the transaction: it becomes visible to workers at commit and vanishes on rollback, and
    no crash between commit and enqueue can lose it (a transactional outbox, for free).
    Any other backend (a broker) is handed the task by `transaction.on_commit`.
    """
    if connection.in_atomic_block and _backend_shares_the_database(task):
        task.enqueue(**kwargs)
    else:
        transaction.on_commit(lambda: task.enqueue(**kwargs))
