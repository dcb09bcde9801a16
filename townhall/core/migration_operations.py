"""Index operations for large tables that keep a running Townhall writing (docs/upgrading.md).

On PostgreSQL they are Django's ``AddIndexConcurrently`` / ``RemoveIndexConcurrently``
(``CREATE INDEX CONCURRENTLY``: no lock that blocks writes; the migration needs
``atomic = False``). On SQLite, where Townhall also runs and an index is built without
such a lock anyway, they are the plain ``AddIndex`` / ``RemoveIndex``: Django's own
concurrent operations fail there. ``make migrations-lint`` requires them (or Django's) for
indexes on the large tables.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import (
    AddIndexConcurrently as PostgresAddIndexConcurrently,
)
from django.contrib.postgres.operations import (
    RemoveIndexConcurrently as PostgresRemoveIndexConcurrently,
)
from django.db.migrations.operations import AddIndex, RemoveIndex


class _ConcurrentOnPostgres:
    """The concurrent operation on PostgreSQL, `plain` (the same without CONCURRENTLY) elsewhere."""

    plain: Any

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)  # type: ignore[misc]
        else:
            self.plain.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)  # type: ignore[misc]
        else:
            self.plain.database_backwards(self, app_label, schema_editor, from_state, to_state)


class AddIndexConcurrently(_ConcurrentOnPostgres, PostgresAddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, a plain AddIndex elsewhere."""

    plain = AddIndex


class RemoveIndexConcurrently(_ConcurrentOnPostgres, PostgresRemoveIndexConcurrently):
    """DROP INDEX CONCURRENTLY on PostgreSQL, a plain RemoveIndex elsewhere."""

    plain = RemoveIndex
