"""`townhall retention purge [--dry-run]`: remove what has outlived its retention period.

The periods are the retention policy council admins edit in the admin (defaults from the
TOWNHALL_RETENTION setting); the scheduler runs the same purge daily.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from townhall.intake.retention import retention_purge


class Command(BaseCommand):
    help = "Data retention. Sub-commands: purge."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        purge = sub.add_parser(
            "purge", help="Delete or blank each kind of data older than its retention period."
        )
        purge.add_argument(
            "--dry-run", action="store_true", help="Only report what would go; change nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(file=self.stdout, highlight=False)  # type: ignore[arg-type]
        dry_run = options["dry_run"]
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("Purging", total=None)

            def advance(kind: str, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total, description=kind)

            items = retention_purge(dry_run=dry_run, progress=advance)
        table = Table(title="Retention" + (" (dry run: nothing changed)" if dry_run else ""))
        for column in ("kind", "kept for", "older than", "due", "purged"):
            table.add_column(column, justify="right" if column in ("due", "purged") else "left")
        for item in items:
            table.add_row(
                item.kind,
                item.period if item.cutoff else "forever",
                f"{item.cutoff:%Y-%m-%d %H:%M}" if item.cutoff else "-",
                str(item.due),
                str(item.purged),
            )
        console.print(table)
