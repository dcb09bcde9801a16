"""`townhall notify_send`: a dedicated sender process for the notification outbox."""

from __future__ import annotations

import logging
import signal
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from townhall.notify.services import notification_send_due

logger = logging.getLogger("townhall.notify.sender")


class Command(BaseCommand):
    help = (
        "Send due notifications in a loop (run several for throughput; they never send the "
        "same message twice). The db_worker also sends them; this is for large fan-outs."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--batch", type=int, default=200, help="Rows per round (default 200).")
        parser.add_argument("--idle", type=float, default=1.0, help="Seconds to wait when idle.")
        parser.add_argument("--until-empty", action="store_true", help="Exit once nothing is due.")

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        sent = 0
        logger.info("sender started")
        while not stopping:
            done = notification_send_due(limit=options["batch"])
            sent += done
            if done == 0:
                if options["until_empty"]:
                    break
                time.sleep(options["idle"])
        logger.info("sender stopped after %d message(s)", sent)
        self.stdout.write(f"{sent} notification(s) sent")
