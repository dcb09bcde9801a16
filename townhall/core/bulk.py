"""Many new rows of one model at once: COPY on PostgreSQL, bulk_create elsewhere.

For fan-outs (one alert to every subscriber): the rows share most of their values, so they
are made from one template instance with a few fields set per row, without building a model
instance each, and PostgreSQL takes them in one COPY, which costs less per row than the
multi-row INSERT that `bulk_create` writes (measured in bench/notify.py). A COPY cannot skip
rows that already exist, so it runs in a savepoint: if any row collides with a unique
constraint, nothing of it stays and the rows go through `bulk_create(ignore_conflicts=True)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Field, Model


class RowsLike:
    """Rows of `model` equal to `template` except in the fields named by `varying`."""

    def __init__(self, template: Model, varying: Sequence[str]) -> None:
        meta = template._meta
        self.model = type(template)
        self.template = template
        self.varying = tuple(varying)
        self.fields: list[Field[Any, Any]] = [f for f in meta.concrete_fields if not f.primary_key]
        names = [f.attname for f in self.fields]
        by_name = {f.name: f.attname for f in self.fields}
        self.attnames = [by_name[name] for name in self.varying]
        self.positions = [names.index(attname) for attname in self.attnames]
        self.base = [
            f.get_db_prep_save(f.pre_save(template, True), connection) for f in self.fields
        ]
        self.rows: list[tuple[Any, ...]] = []

    def add(self, *values: Any) -> None:
        """One row: a value for each of the varying fields, in their order."""
        self.rows.append(values)

    def __len__(self) -> int:
        return len(self.rows)

    def insert(self) -> None:
        """Insert every row; rows whose unique key already exists are left out."""
        if not self.rows:
            return
        if connection.vendor == "postgresql":
            try:
                with transaction.atomic():
                    self._copy()
                return
            except IntegrityError:
                pass  # some already exist (a run repeated): skip those, one by one below
        self.model._default_manager.bulk_create(self._instances(), ignore_conflicts=True)

    def _copy(self) -> None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in self.fields)
        table = quote(self.model._meta.db_table)
        row = list(self.base)
        positions = self.positions
        with connection.cursor() as cursor, connection.wrap_database_errors:
            raw = cursor.cursor  # the driver's cursor: Django's wrapper has no copy()
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # names from metadata
                for values in self.rows:
                    for at, value in zip(positions, values, strict=True):
                        row[at] = value
                    copy.write_row(row)

    def _instances(self) -> list[Model]:
        made = []
        for values in self.rows:
            obj = self.model(
                **{f.attname: getattr(self.template, f.attname) for f in self.fields},
            )
            for attname, value in zip(self.attnames, values, strict=True):
                setattr(obj, attname, value)
            made.append(obj)
        return made
