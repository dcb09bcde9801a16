"""`townhall import cases FILE --format open311|boston|nyc|la [--mapping FILE] [--limit N]
[--restart]`: load past requests into the fact table so the KPIs cover years from day one."""
# ruff: noqa: N999 - the command is `townhall import`, so the module is import.py

from __future__ import annotations

import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from townhall.insights.importing.loader import ImportBusy, ImportOutcome, import_cases
from townhall.insights.importing.mapping import MappingError, ServiceMapping, mapping_load
from townhall.insights.importing.readers import READERS, ImportFileError


class Command(BaseCommand):
    help = (
        "Import past requests into the fact table (no personal data is read). "
        "`import cases FILE --format boston` loads a City of Boston 311 case export; "
        "nyc: NYC Council constituent services; la: MyLA311; open311: GeoReport v2 "
        "requests (CSV or a JSON page). Resumable: run the same command again to continue "
        "an interrupted import; a finished file loads nothing twice. docs/import.md."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("what", choices=["cases"], help="what to import (cases)")
        parser.add_argument("file", help="the CSV (or, for open311, JSON) file")
        parser.add_argument(
            "--format", dest="fmt", required=True, metavar="FORMAT",
            help=f"the file's format: {' | '.join(READERS)}",
        )  # fmt: skip
        parser.add_argument(
            "--mapping", help="YAML or CSV: source service names -> the council's codes"
        )
        parser.add_argument(
            "--limit", type=int, help="read at most N rows in this run (resume later)"
        )
        parser.add_argument(
            "--restart", action="store_true",
            help="read the file from its first row again (already imported rows stay once)",
        )  # fmt: skip
        parser.add_argument(
            "--timezone", help="the zone of times without an offset (default: the format's city)"
        )
        parser.add_argument("--chunk", type=int, default=10_000, help="rows per commit")

    def handle(self, *args: Any, **options: Any) -> None:
        fmt = options["fmt"]
        if fmt not in READERS:
            raise CommandError(f"unknown format {fmt!r}: use one of {', '.join(READERS)}")
        limit = options["limit"]
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        if not 100 <= options["chunk"] <= 1_000_000:
            raise CommandError("--chunk must be between 100 and 1,000,000")
        zone = options["timezone"]
        if zone:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise CommandError(f"unknown time zone {zone!r}") from None
        elif fmt == "open311":
            from django.conf import settings

            zone = settings.TIME_ZONE
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no file at {path}")
        mapping: ServiceMapping | None = None
        if options["mapping"]:
            try:
                mapping = mapping_load(Path(options["mapping"]))
            except MappingError as exc:
                raise CommandError(str(exc)) from None
        interactive = bool(getattr(self.stdout, "isatty", lambda: False)()) and sys.stdout.isatty()
        console = Console(file=sys.stderr)
        size = path.stat().st_size
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[rows]:,} rows · {task.fields[rate]:,.0f} rows/s"),
            TimeElapsedColumn(),
            console=console,
            disable=not interactive,
        ) as bar:
            task = bar.add_task(f"{fmt} import", total=size, rows=0, rate=0.0)

            def progress(rows: int, position: int) -> None:
                elapsed = bar.tasks[task].elapsed or 1e-9
                bar.update(task, completed=position or size, rows=rows, rate=rows / elapsed)

            try:
                outcome = import_cases(
                    path, fmt, mapping=mapping, limit=limit, restart=options["restart"],
                    zone=zone, chunk_size=options["chunk"], progress=progress,
                )  # fmt: skip
            except (ImportFileError, ImportBusy) as exc:
                raise CommandError(str(exc)) from None
            except DatabaseError as exc:
                raise CommandError(f"the database refused a chunk: {exc}") from None
        self.report(outcome)

    def report(self, o: ImportOutcome) -> None:
        run = o.run
        if o.already_done:
            self.stdout.write(
                f"{run.path}: already imported on {run.finished_at:%Y-%m-%d %H:%M} "
                f"({run.rows_loaded} loaded, {run.rows_skipped} skipped); nothing to do. "
                "--restart reads it again (rows already imported are not loaded twice)."
            )
            return
        start = f" (resumed at row {o.resumed_from})" if o.resumed_from else ""
        self.stdout.write(
            f"read {o.rows} rows{start}: loaded {o.loaded}, skipped {sum(o.skipped.values())}"
        )
        for reason, n in o.skipped.most_common():
            self.stdout.write(f"  skipped {n}: {reason}")
        for note, n in o.notes.most_common():
            self.stdout.write(f"  note {n}: {note}")
        if o.finished:
            self.stdout.write(
                self.style.SUCCESS(
                    f"finished: {run.rows_loaded} loaded, {run.rows_skipped} skipped in all"
                )
            )
        else:
            self.stdout.write(
                f"stopped at row {run.rows_done}: run the same command again to continue"
            )
