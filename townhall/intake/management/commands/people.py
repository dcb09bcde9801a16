"""`townhall people export|erase CITIZEN_ID`: a resident's privacy requests from the console.

townhall people export 42 --out resident-42.zip
townhall people erase 42 --dry-run
townhall people erase 42 --yes
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from townhall.core.errors import NotFound
from townhall.intake.privacy import resident_erase, resident_erasure_plan, resident_export


class Command(BaseCommand):
    help = "A resident's privacy requests. Sub-commands: export, erase."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser(
            "export",
            help="Write everything held about a resident to one ZIP (JSON and files).",
        )
        export.add_argument("citizen_id", type=int, help="The citizen's id (see the admin).")
        export.add_argument("--out", required=True, type=Path, help="The ZIP file to write.")
        erase = sub.add_parser(
            "erase",
            help="Erase a resident's personal data; their cases stay for statistics.",
        )
        erase.add_argument("citizen_id", type=int, help="The citizen's id (see the admin).")
        erase.add_argument(
            "--dry-run", action="store_true", help="Only show what would be removed."
        )
        erase.add_argument(
            "--yes", action="store_true", help="Do not ask for confirmation (scripts)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(file=self.stdout, highlight=False)  # type: ignore[arg-type]
        citizen_id = options["citizen_id"]
        try:
            if options["action"] == "export":
                self._export(console, citizen_id, options["out"])
            else:
                self._erase(console, citizen_id, options["dry_run"], options["yes"])
        except NotFound as exc:
            raise CommandError(exc.message) from exc

    def _export(self, console: Console, citizen_id: int, out: Path) -> None:
        if out.exists():
            raise CommandError(f"{out} exists already; choose another name.")
        partial = out.with_name(out.name + ".part")
        try:
            with Progress(console=console, transient=True) as bar:
                task = bar.add_task("Exporting", total=None)

                def advance(step: str, done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total, description=step)

                with partial.open("wb") as handle:
                    result = resident_export(
                        citizen_id=citizen_id, out=handle, via="command", progress=advance
                    )
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)
        counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
        console.print(
            f"Wrote {out} ({out.stat().st_size:,} bytes): {counts}; {result.files} files."
        )

    def _erase(self, console: Console, citizen_id: int, dry_run: bool, yes: bool) -> None:
        plan = resident_erasure_plan(citizen_id)
        table = Table(title=f"Erasing resident {citizen_id}" + (" (dry run)" if dry_run else ""))
        table.add_column("what")
        table.add_column("rows", justify="right")
        for kind, count in plan.counts.items():
            table.add_row(kind.replace("_", " "), str(count))
        console.print(table)
        console.print("Kept: " + "; ".join(plan.kept) + ".")
        if dry_run:
            console.print("Dry run: nothing was changed.")
            return
        if not yes:
            if not sys.stdin.isatty():
                raise CommandError("Refusing to erase without --yes when not interactive.")
            answer = input(f"Erase resident {citizen_id}? This cannot be undone. Type 'erase': ")
            if answer.strip() != "erase":
                raise CommandError("Not erased.")
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("Erasing", total=None)

            def advance(step: str, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total, description=step)

            report = resident_erase(citizen_id=citizen_id, via="command", progress=advance)
        console.print(
            f"Resident {citizen_id} erased: {len(report.case_ids)} case(s) kept without "
            "personal data."
        )
