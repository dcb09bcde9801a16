"""`townhall intake imap` polls a mailbox; `townhall intake retry` processes what is stuck."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import Progress, TaskID

from townhall.intake.imap import ImapMailbox, mailbox_poll
from townhall.intake.services import intake_process_pending


class Command(BaseCommand):
    help = (
        "Intake jobs. `imap` takes unseen mail from the IMAP folder set by IMAP_HOST, "
        "IMAP_USER, IMAP_PASSWORD, IMAP_FOLDER through the intake pipeline (--once for one "
        "pass, otherwise every --interval seconds); `retry` processes messages left "
        "unprocessed by an error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="job", required=True)
        imap = sub.add_parser("imap", help="Poll the IMAP mailbox.")
        imap.add_argument("--once", action="store_true", help="One pass, then exit.")
        imap.add_argument(
            "--interval", type=int, default=60, help="Seconds between passes (default 60)."
        )
        imap.add_argument(
            "--limit", type=int, default=500, help="Messages per pass at most (default 500)."
        )
        sub.add_parser("retry", help="Process messages an error left unprocessed.")

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(highlight=False)
        if options["job"] == "retry":
            done = intake_process_pending()
            console.print(f"{done} message(s) processed again.")
            return
        config = settings.TOWNHALL_IMAP
        if not config["host"] or not config["user"]:
            raise CommandError("Set IMAP_HOST and IMAP_USER (and IMAP_PASSWORD) first.")
        while True:
            try:
                mailbox = ImapMailbox(**config)
            except (OSError, ConnectionError) as exc:
                raise CommandError(f"Cannot reach the mailbox: {exc}") from exc
            try:
                with Progress(console=console, transient=True) as bar:
                    task = bar.add_task("Reading mail", total=None)

                    def advance(n: int, total: int, task: TaskID = task) -> None:
                        bar.update(task, completed=n, total=total)

                    report = mailbox_poll(mailbox, limit=options["limit"], progress=advance)
            finally:
                mailbox.close()
            outcomes = ", ".join(f"{k} {v}" for k, v in sorted((report.outcomes or {}).items()))
            console.print(
                f"{report.fetched} fetched ({outcomes or 'nothing new'}); "
                f"{report.quarantined} quarantined, {report.failed} failed."
            )
            if options["once"]:
                return
            time.sleep(options["interval"])
