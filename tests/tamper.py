"""What a database owner can do behind the services' back, for the tamper-evidence tests.

On PostgreSQL case events refuse UPDATE and DELETE (a trigger); a superuser (or the
table's owner, with ALTER TABLE … DISABLE TRIGGER) can switch triggers off, which is what
these tests do before editing history.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def as_database_owner() -> Iterator[None]:
    """Let the body update and delete case events, as the table's owner could."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # user triggers off
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
