"""Database helpers for hot write paths: reserved primary keys and multi-row inserts.

On PostgreSQL a round trip costs more than the insert itself, so the intake path reserves
primary keys in blocks and writes a row together with its dependent rows in one statement
(which is atomic on its own, so it needs no BEGIN/COMMIT either). SQLite runs in-process,
where round trips are free: there the ordinary ORM saves are used.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Model


class KeyReservations:
    """Hand out primary keys for one model, reserved from its sequence a block at a time.

    Keys come from the table's own sequence, so they never collide with rows inserted the
    ordinary way; a process that stops leaves a gap in the numbering, nothing worse.
    """

    def __init__(self, model: type[Model], *, block: int = 32) -> None:
        self.model = model
        self.block = block
        self._free: list[int] = []
        self._lock = threading.Lock()

    def take(self) -> int | None:
        """Return a fresh primary key, or None where the database assigns keys cheaply."""
        if connection.vendor != "postgresql":
            return None
        with self._lock:
            if not self._free:
                self._free = self._reserve()
            return self._free.pop()

    def _reserve(self) -> list[int]:
        table, column = self.model._meta.db_table, self.model._meta.pk.column
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, column, self.block],
            )
            keys = [row[0] for row in cursor.fetchall()]
        return sorted(keys, reverse=True)  # pop() hands them out in ascending order


def rows_insert_together(*objs: Model) -> None:
    """Insert new model instances, whose primary keys are set, as one atomic write.

    On PostgreSQL this is a single statement (data-modifying CTEs); elsewhere, saves in
    one transaction. Foreign keys between the rows are fine: Django's constraints are
    checked at the end of the statement.
    """
    # The connection itself, not the `connection` proxy: the fields below ask it for its
    # operations once per value (68 values a report, each a thread-local lookup otherwise).
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        with transaction.atomic():
            for obj in objs:
                obj.save(force_insert=True)
        return
    if any(obj.pk is None for obj in objs):
        raise ValueError("rows_insert_together needs every primary key set (KeyReservations).")
    template = _insert_template(tuple(type(obj) for obj in objs))
    params = [
        f.get_db_prep_save(f.pre_save(obj, True), db)
        for obj in objs
        for f in obj._meta.concrete_fields
    ]
    with db.cursor() as cursor:
        cursor.execute(_bind(db.connection, template, params))
    for obj in objs:
        obj._state.adding = False
        obj._state.db = db.alias


@functools.lru_cache(maxsize=32)
def _insert_template(shape: tuple[type[Model], ...]) -> bytes:
    """The statement inserting one row of each model in `shape`, with a %s per value.

    Built once per shape: the column lists come from model metadata, which does not change.
    """
    inserts: list[str] = []
    quote = connection.ops.quote_name
    for model in shape:
        fields = model._meta.concrete_fields
        columns = ", ".join(quote(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        table = quote(model._meta.db_table)
        inserts.append(f"INSERT INTO {table} ({columns}) VALUES ({marks})")  # noqa: S608 - names from model metadata
    head = ", ".join(f"row{i} AS ({sql})" for i, sql in enumerate(inserts[:-1]))
    return (f"WITH {head} {inserts[-1]}" if head else inserts[-1]).encode()


def _bind(raw: Any, template: bytes, params: list[Any]) -> str:
    """`template` with `params` in it as SQL literals, quoted by psycopg itself.

    What psycopg's client-side binding (Django's default) does on every execute, without
    parsing the statement for its placeholders each time: psycopg caches that parse only
    for statements of at most 50 parameters, and a case with its event and message has
    68 (~0.2 ms a report). The names in the template come from model metadata, so its
    only % are the placeholders.
    """
    from psycopg.adapt import Transformer

    literals = Transformer(raw)
    values = tuple(b"NULL" if p is None else literals.as_literal(p) for p in params)
    return (template % values).decode(raw.info.encoding)
