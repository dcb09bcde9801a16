"""`townhall notices import-codes|expire`: a recall's batch codes from a CSV file, and
marking ended notices as expired (docs/notices.md)."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from townhall.core.errors import ValidationFailed
from townhall.notices.imports import BATCH, ImportResult, csv_codes, recall_codes_import
from townhall.notices.services import notices_expire


class Command(BaseCommand):
    help = "Public notices and recalls. Sub-commands: import-codes, expire."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser(
            "import-codes",
            help="Add a recall's affected batch/lot codes from a CSV file (one code per row; "
            "the column headed code, batch or lot, else the first). Safe to run again: "
            "codes already there are skipped, so an interrupted import resumes.",
        )
        imp.add_argument("notice_id", type=int, help="The recall notice's id.")
        imp.add_argument("csv_file", type=Path, help="CSV file, UTF-8 ('-' for stdin).")
        imp.add_argument(
            "--batch", type=int, default=BATCH, help=f"Codes per transaction (default {BATCH})."
        )
        imp.add_argument("--no-progress", action="store_true", help="No progress bar.")
        sub.add_parser("expire", help="Mark published notices whose end has passed as expired.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "expire":
            self.stdout.write(f"{notices_expire()} notice(s) expired.")
            return
        self._import(options)

    def _import(self, options: dict[str, Any]) -> None:
        path: Path = options["csv_file"]
        if str(path) != "-" and not path.is_file():
            raise CommandError(f"No such file: {path}")
        if not 1 <= options["batch"] <= 50_000:
            raise CommandError("--batch must be between 1 and 50000.")
        total = None
        if str(path) != "-":
            with path.open("rb") as raw:
                total = sum(1 for _ in raw)
        show = not options["no_progress"] and sys.stderr.isatty()
        try:
            with (
                (
                    sys.stdin if str(path) == "-" else path.open(encoding="utf-8-sig", newline="")
                ) as fh,
                Progress(
                    TextColumn("Importing codes"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=Console(stderr=True),
                    disable=not show,
                ) as progress,
            ):
                bar = progress.add_task("codes", total=total)

                def advance(result: ImportResult) -> None:
                    progress.update(bar, completed=result.read)

                result = recall_codes_import(
                    options["notice_id"],
                    csv_codes(fh),
                    batch=options["batch"],
                    progress=advance,
                )
        except ValidationFailed as exc:
            raise CommandError(exc.message) from exc
        except UnicodeDecodeError as exc:
            raise CommandError("The file is not UTF-8 text (save it as CSV UTF-8).") from exc
        for number, reason in result.invalid_lines:
            self.stderr.write(f"line {number}: {reason}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.read} read: {result.added} added, {result.present} already there, "
                f"{result.invalid} invalid."
            )
        )
