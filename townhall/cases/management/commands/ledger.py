"""`townhall ledger verify`: recompute every case's hash chain and report any break."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from townhall.cases.selectors import ledger_verify


class Command(BaseCommand):
    help = "Check the tamper-evident case history. Sub-commands: verify."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="Recompute every event chain and list breaks.")
        verify.add_argument(
            "--case",
            type=int,
            action="append",
            dest="case_ids",
            help="Only this case id (repeatable).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            checked, breaks = ledger_verify(case_ids=options.get("case_ids"))
            for b in breaks:
                self.stderr.write(f"BREAK case {b.case_id} event #{b.seq}: {b.reason}")
            if breaks:
                raise CommandError(f"{len(breaks)} break(s) found in {checked} events.")
            self.stdout.write(self.style.SUCCESS(f"OK: {checked} events verified, no breaks."))
