"""Enqueue follow-up work tied to the transaction that caused it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django_tasks.base import Task, TaskResultStatus


def _backend_shares_the_database(task: Task[Any, Any]) -> bool:
    from django_tasks_db import DatabaseBackend

    return isinstance(task.get_backend(), DatabaseBackend) and not settings.DATABASE_ROUTERS


def enqueue_once_on_commit(task: Task[Any, Any]) -> None:
    """Make sure one run of `task` (which takes no arguments) is pending after commit.

    For work that drains a queue kept in the database (new cases to acknowledge), one
    pending run serves every change committed before it starts, so a burst of changes
    costs one task row, not one each. With the database backend a pending (READY) run is
    looked up after commit: if there is one, it has not started yet and will see this
    change. Other backends enqueue every time; draining twice is harmless. Nothing is
    enqueued if the transaction rolls back.
    """

    def ensure_pending() -> None:
        if _backend_shares_the_database(task):
            from django_tasks_db.models import DBTaskResult

            # Plain SQL: this runs after every case opened, and the ORM's query
            # building cost more than the query (the READY rows have a partial index).
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT 1 FROM {DBTaskResult._meta.db_table} "  # noqa: S608 - model's own table
                    "WHERE status = %s AND task_path = %s LIMIT 1",
                    [TaskResultStatus.READY.value, task.module_path],
                )
                if cursor.fetchone() is not None:
                    return
        task.enqueue()

    transaction.on_commit(ensure_pending)
