"""`townhall open311_import FILE...`: import requests served by another GeoReport v2 server."""

from __future__ import annotations

import gzip
import json
from argparse import ArgumentParser
from functools import partial
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.progress import Progress

from townhall.catalog.models import Jurisdiction
from townhall.open311.importing import ImportReport, georeport_import


class Command(BaseCommand):
    help = (
        "Import service requests from GeoReport v2 JSON files (arrays of requests, as "
        "GET requests.json serves them) as cases of a jurisdiction, keeping each request's "
        "id, times, status, notes, location and media URL. Service codes must already be in "
        "the catalogue (townhall catalog_import). Ids already imported are skipped, so an "
        "interrupted import can be run again; bad records are listed and skipped."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "files", nargs="+", type=Path, help="GeoReport v2 JSON files (.json or .json.gz)"
        )
        parser.add_argument(
            "--jurisdiction",
            default="",
            help="open311_id or slug of the jurisdiction (needed when there are several)",
        )
        parser.add_argument(
            "--show", type=int, default=20, help="how many rejected records to list (default 20)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        jurisdiction = self._jurisdiction(options["jurisdiction"])
        batches: list[tuple[Path, list[Any]]] = []
        for path in options["files"]:
            try:
                raw = path.read_bytes()
                if path.suffix == ".gz":
                    raw = gzip.decompress(raw)
                data = json.loads(raw.decode("utf-8"))
            except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise CommandError(f"Cannot read {path}: {exc}") from exc
            if not isinstance(data, list):
                raise CommandError(f"{path} is not a JSON array of service requests.")
            batches.append((path, data))
        total = ImportReport()
        with Progress(disable=options["verbosity"] == 0) as progress:
            for path, records in batches:
                bar = progress.add_task(path.name, total=len(records))
                report = georeport_import(
                    records,
                    jurisdiction=jurisdiction,
                    progress=partial(progress.advance, bar),
                )
                total.imported += report.imported
                total.already += report.already
                total.dropped_fields.update(report.dropped_fields)
                total.rejected.extend(
                    (i, f"{path.name}: {rid}", why) for i, rid, why in report.rejected
                )
        self._summarise(jurisdiction, total, options["show"])

    def _jurisdiction(self, wanted: str) -> Jurisdiction:
        if wanted:
            found = (
                Jurisdiction.objects.filter(open311_id=wanted).first()
                or Jurisdiction.objects.filter(slug=wanted).first()
            )
            if found is None:
                raise CommandError(f"No jurisdiction {wanted!r}.")
            return found
        councils = list(Jurisdiction.objects.order_by("pk")[:2])
        if len(councils) != 1:
            raise CommandError(
                "Name the jurisdiction with --jurisdiction."
                if councils
                else "No jurisdiction yet: import a catalogue first (townhall catalog_import)."
            )
        return councils[0]

    def _summarise(self, jurisdiction: Jurisdiction, report: ImportReport, show: int) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"{jurisdiction.name}: {report.imported} imported, "
                f"{report.already} already there, {len(report.rejected)} rejected."
            )
        )
        for index, record_id, why in report.rejected[:show]:
            self.stdout.write(f"  record {index} ({record_id or 'no id'}): {why}")
        if len(report.rejected) > show:
            self.stdout.write(f"  … and {len(report.rejected) - show} more.")
        if report.dropped_fields:
            parts = ", ".join(f"{k} ({n})" for k, n in sorted(report.dropped_fields.items()))
            self.stdout.write(f"  fields not kept: {parts}")
