"""`townhall catalog_import FILE`: load or update a council's service catalogue from JSON."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from townhall.catalog.services import catalog_import
from townhall.core.errors import ValidationFailed


class Command(BaseCommand):
    help = (
        "Create or update a jurisdiction's departments, groups, service types, questions, "
        "SLA policies and calendar from a JSON file (the shape of townhall/demo/data/town.json). "
        "Rows are matched by code; nothing is deleted; a file with errors changes nothing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="JSON catalogue file")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        try:
            jurisdiction, summary = catalog_import(spec=spec)
        except ValidationFailed as exc:
            lines = [f"  {where}: {'; '.join(problems)}" for where, problems in exc.details.items()]
            raise CommandError("\n".join([exc.message, *lines])) from exc
        except KeyError as exc:
            raise CommandError(f"The file lacks a required key: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"{jurisdiction.name}: catalogue imported."))
        for label, counts in (("created", summary.created), ("updated", summary.updated)):
            if counts:
                parts = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
                self.stdout.write(f"  {label}: {parts}")
