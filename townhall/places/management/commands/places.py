"""`townhall places import FILE.csv | search WORDS | nearest LAT LONG`: the address gazetteer."""

from __future__ import annotations

import csv
from argparse import ArgumentParser
from functools import partial
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.progress import Progress

from townhall.places.selectors import place_nearest, place_search
from townhall.places.services import columns_for, places_import


class Command(BaseCommand):
    help = (
        "The council's address gazetteer. Sub-commands: import FILE.csv (addresses with "
        "coordinates, postcode and property id; matched by property id, so it can be run "
        "again), search WORDS (fuzzy), nearest LAT LONG."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser(
            "import",
            help="Create or update places from a CSV with a header row: property_id (or "
            "uprn, id), address, postcode (or zipcode; optional), lat (or latitude), "
            "long (or lon, lng, longitude).",
        )
        load.add_argument("file", type=Path)
        load.add_argument("--show", type=int, default=20, help="rejected rows to list")
        find = sub.add_parser("search", help="The best matching addresses for some words.")
        find.add_argument("words", nargs="+")
        find.add_argument("--limit", type=int, default=5)
        near = sub.add_parser("nearest", help="The address nearest to a point (within 150 m).")
        near.add_argument("lat", type=float)
        near.add_argument("long", type=float)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "import":
            self._import(options["file"], options["show"], options["verbosity"])
        elif action == "search":
            matches = place_search(" ".join(options["words"]), limit=options["limit"])
            if not matches:
                raise CommandError("No address matches those words.")
            for match in matches:
                found = match.place
                self.stdout.write(f"{match.score:5.1f}  {found.property_id}  {found}")
        else:
            place = place_nearest(options["lat"], options["long"])
            if place is None:
                raise CommandError("No address within 150 m of that point.")
            self.stdout.write(f"{place.property_id}  {place}  ({place.lat}, {place.long})")

    def _import(self, path: Path, show: int, verbosity: int) -> None:
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                total = max(sum(1 for _ in handle) - 1, 0)
                handle.seek(0)
                reader = csv.DictReader(handle)
                columns = columns_for(reader.fieldnames or [])
                with Progress(disable=verbosity == 0) as progress:
                    bar = progress.add_task(path.name, total=total)
                    report = places_import(
                        reader, columns=columns, progress=partial(progress.advance, bar)
                    )
        except (OSError, UnicodeDecodeError, csv.Error, ValueError) as exc:
            raise CommandError(f"Cannot import {path}: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.created} created, {report.updated} updated, "
                f"{report.unchanged} unchanged, {len(report.rejected)} rejected."
            )
        )
        for line, why in report.rejected[:show]:
            self.stdout.write(f"  line {line}: {why}")
        if len(report.rejected) > show:
            self.stdout.write(f"  … and {len(report.rejected) - show} more.")
