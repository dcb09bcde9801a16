"""Reads that may come from a read replica (DATABASE_REPLICA_URL), and only those.

Views that only show figures (the insights dashboards, Open311's GET operations) run
inside `reading_from_replica()`; there the ORM reads from DATABASES["replica"] while
every write, and every read made in a transaction, stays on the primary. Sign-in state
(sessions, users, lockouts, second factors) always comes from the primary too: a replica
a moment behind must not sign anyone out. Without a replica configured the context does
nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

REPLICA = "replica"
# Apps whose rows decide who is signed in, or that a worker claims: never a stale copy.
PRIMARY_ONLY_APPS = frozenset(
    {"sessions", "auth", "axes", "otp_static", "otp_totp", "django_otp", "django_tasks_database"}
)

_replica_reads: ContextVar[bool] = ContextVar("townhall_replica_reads", default=False)


@contextmanager
def reading_from_replica() -> Iterator[None]:
    """Inside, ORM reads go to the replica when there is one (also a view decorator:
    ``reading_from_replica()(view)``; each call gets its own context)."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


class ReplicaRouter:
    """DATABASE_ROUTERS entry: the replica for reads inside reading_from_replica()."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        if not _replica_reads.get() or not replica_configured():
            return None
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None  # a transaction reads what it (may have) written: the primary
        return REPLICA

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        # The replica holds the primary's rows: a row read there is the same row.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == REPLICA else None  # the replica follows the primary
