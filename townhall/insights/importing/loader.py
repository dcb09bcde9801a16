"""Write a source file into `CaseFact` in chunks, each committed with its checkpoint.

Per chunk, in one transaction: the rows are written and `ImportRun.rows_done` moves past
them. Rows already imported (the same system and id) are skipped as "already imported",
so a re-run or an overlapping file loads nothing twice. PostgreSQL: a binary `COPY ...
FROM STDIN` (psycopg 3) into a temporary table, then `INSERT ... ON CONFLICT DO NOTHING`
on the unique index; elsewhere: a look-up, then `bulk_create`. A run that stops (a crash,
Ctrl-C, `--limit`) resumes at `rows_done`; a finished file is not read again unless
`restart` is asked for. On PostgreSQL an advisory lock keeps two imports of the same
system from running at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from townhall.insights.importing.mapping import ServiceMapping
from townhall.insights.importing.readers import READERS, CsvReader, ImportFileError, Item
from townhall.insights.importing.rows import BadRow, SourceRow
from townhall.insights.models import CaseFact, FactSource, ImportRun

COLUMNS = (
    "source", "system", "external_id", "service_type_id", "service_name", "department_id",
    "department_name", "channel", "area", "status", "personal", "opened_at", "resolved_at",
    "closed_at", "due_at", "source_on_time", "reopen_count", "transfer_count",
    "contact_count", "staff_minutes", "lat", "long", "updated_at",
)  # fmt: skip
# PostgreSQL types of COLUMNS, for the binary COPY (dates and numbers are not re-parsed).
COPY_TYPES = (
    "varchar", "varchar", "varchar", "int8", "varchar", "int8", "varchar", "varchar",
    "varchar", "varchar", "bool", "timestamptz", "timestamptz", "timestamptz", "timestamptz",
    "bool", "int4", "int4", "int4", "int4", "float8", "float8", "timestamptz",
)  # fmt: skip
ALREADY = "already imported"
UNMAPPED_NOTE = "service not in the mapping: kept as text"
NOTE = "note: "

Progress = Callable[[int, int], None]  # (rows read in this run, bytes read)


class ImportBusy(Exception):
    """Another import of the same system is running."""


@dataclass
class ImportOutcome:
    run: ImportRun
    rows: int = 0  # rows read in this run
    loaded: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    resumed_from: int = 0
    finished: bool = False
    already_done: bool = False


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def reader_open(
    path: Path, fmt: str, zone: str | None, mapping: ServiceMapping | None
) -> tuple[CsvReader, Iterator[Item]]:
    """The reader for `fmt` with its rows, the header already checked (ImportFileError)."""
    if fmt not in READERS:
        raise ImportFileError(f"unknown format {fmt!r} (one of {', '.join(READERS)})")
    if not path.is_file():
        raise ImportFileError(f"no file at {path}")
    reader = READERS[fmt](path, zone, mapping.channels if mapping else None)
    items = reader.items()
    first = next(items, None)  # reads the header: a mismatch raises here, before any write

    def rows() -> Iterator[Item]:
        if first is not None:
            yield first
            yield from items

    return reader, rows()


@contextmanager
def system_lock(system: str) -> Iterator[None]:
    if connection.vendor != "postgresql":
        yield
        return
    key = f"townhall-import-{system}"
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key])
        (got,) = cur.fetchone()
    if not got:
        raise ImportBusy(f"another {system} import is running")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])


def import_cases(
    path: Path,
    fmt: str,
    *,
    mapping: ServiceMapping | None = None,
    limit: int | None = None,
    restart: bool = False,
    zone: str | None = None,
    chunk_size: int = 10_000,
    progress: Progress | None = None,
) -> ImportOutcome:
    """Import `path` (format `fmt`) into CaseFact; resume where the last run stopped."""
    reader, items = reader_open(path, fmt, zone, mapping)
    sha = file_sha256(path)
    with system_lock(reader.system):
        run, _ = ImportRun.objects.get_or_create(
            file_sha256=sha, format=fmt, defaults={"path": str(path)[:500]}
        )
        if restart:
            run.rows_done = run.rows_loaded = run.rows_skipped = 0
            run.problems = {}
            run.finished_at = None
            run.started_at = timezone.now()
        elif run.finished_at is not None:
            return ImportOutcome(run, already_done=True, finished=True)
        run.path = str(path)[:500]
        run.save()
        outcome = ImportOutcome(run, resumed_from=run.rows_done)
        _load(
            reader,
            items,
            mapping,
            limit,
            chunk_size,
            outcome,
            progress,
        )
    return outcome


def _load(
    reader: CsvReader,
    items: Iterator[Item],
    mapping: ServiceMapping | None,
    limit: int | None,
    chunk_size: int,
    outcome: ImportOutcome,
    progress: Progress | None,
) -> None:
    run = outcome.run
    now = timezone.now()
    write = _copy if connection.vendor == "postgresql" else _bulk_create
    if connection.vendor != "postgresql":
        chunk_size = min(chunk_size, 2000)
    remaining = limit
    if outcome.resumed_from:  # the rows earlier runs read (their notes were counted then)
        next(islice(items, outcome.resumed_from, outcome.resumed_from), None)
    notes_seen = reader.notes.copy()
    while True:
        size = chunk_size if remaining is None else min(chunk_size, remaining)
        chunk = list(islice(items, size)) if size > 0 else []
        if chunk:
            rows, skipped, notes = _prepare(reader.system, chunk, mapping, now)
            notes.update(reader.notes - notes_seen)
            notes_seen = reader.notes.copy()
            with transaction.atomic():
                loaded = write(rows) if rows else 0
                if loaded < len(rows):
                    skipped[ALREADY] += len(rows) - loaded
                run.rows_done += len(chunk)
                run.rows_loaded += loaded
                run.rows_skipped += sum(skipped.values())
                problems = Counter(run.problems)
                problems.update(skipped)
                problems.update({NOTE + k: v for k, v in notes.items()})
                run.problems = dict(problems)
                run.save(update_fields=["rows_done", "rows_loaded", "rows_skipped", "problems"])
            outcome.rows += len(chunk)
            outcome.loaded += loaded
            outcome.skipped.update(skipped)
            outcome.notes.update(notes)
            if progress is not None:
                progress(outcome.rows, reader.position())
            if remaining is not None:
                remaining -= len(chunk)
        if len(chunk) < size or (remaining == 0 and next(items, None) is None):
            run.finished_at = timezone.now()
            run.save(update_fields=["finished_at"])
            outcome.finished = True
            return
        if remaining == 0:
            return


def _prepare(
    system: str, chunk: list[Item], mapping: ServiceMapping | None, now: dt.datetime
) -> tuple[list[tuple[Any, ...]], Counter[str], Counter[str]]:
    skipped: Counter[str] = Counter()
    notes: Counter[str] = Counter()
    good: dict[str, SourceRow] = {}
    for item in chunk:
        if isinstance(item, BadRow):
            skipped[item.reason] += 1
        elif item.external_id in good:
            skipped["duplicate id in the file"] += 1
        elif len(item.external_id) > 100:
            skipped["id longer than 100 characters"] += 1
        else:
            good[item.external_id] = item
    if connection.vendor != "postgresql":  # PostgreSQL: ON CONFLICT DO NOTHING, in _copy
        for ext in _existing(system, list(good)):
            del good[ext]
            skipped[ALREADY] += 1
    rows = []
    imported = FactSource.IMPORTED.value
    for r in good.values():
        target = mapping.target(r.service_name, r.department_name) if mapping else None
        if target is None or target.service_type_id is None:
            notes[UNMAPPED_NOTE] += 1
        closed = r.closed_at
        rows.append((
            imported, system, r.external_id,
            target.service_type_id if target else None, r.service_name[:200],
            target.department_id if target else None, r.department_name[:200], r.channel,
            r.area[:100], r.status, target.personal if target else False, r.opened_at,
            closed if r.status == "closed" else None, closed, r.due_at, r.source_on_time,
            0, 0, 1, 0, r.lat, r.long, now,
        ))  # fmt: skip
    if mapping is None:
        notes.pop(UNMAPPED_NOTE, None)  # no mapping given: nothing was expected to map
    return rows, skipped, notes


def _existing(system: str, ids: list[str]) -> list[str]:
    """The ids of `system` already imported (SQLite and others; PostgreSQL uses ON CONFLICT)."""
    found: list[str] = []
    for start in range(0, len(ids), 500):
        found += CaseFact.objects.filter(
            source=FactSource.IMPORTED, system=system, external_id__in=ids[start : start + 500]
        ).values_list("external_id", flat=True)
    return found


def _copy(rows: list[tuple[Any, ...]]) -> int:
    """Binary COPY into a temporary table, then one INSERT ... ON CONFLICT DO NOTHING: the
    unique index itself skips rows already imported (no look-up whose plan could go stale
    while the table grows). Return the number of rows inserted."""
    table = connection.ops.quote_name(CaseFact._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    # Table and column names are this module's own constants, never input.
    stage = f"CREATE TEMPORARY TABLE townhall_import_stage ON COMMIT DROP AS SELECT {cols} FROM {table} WITH NO DATA"  # noqa: S608, E501
    insert = f"INSERT INTO {table} ({cols}) SELECT {cols} FROM townhall_import_stage ON CONFLICT (system, external_id) WHERE source = 'imported' DO NOTHING"  # noqa: S608, E501
    with connection.cursor() as cur:
        raw: Any = cur.cursor  # the psycopg 3 cursor
        raw.execute(stage)
        with raw.copy(f"COPY townhall_import_stage ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(COPY_TYPES)
            for row in rows:
                copy.write_row(row)
        raw.execute(insert)
        inserted: int = raw.rowcount
        raw.execute("DROP TABLE townhall_import_stage")
    return inserted


def _bulk_create(rows: list[tuple[Any, ...]]) -> int:
    CaseFact.objects.bulk_create([CaseFact(**dict(zip(COLUMNS, row, strict=True))) for row in rows])
    return len(rows)
