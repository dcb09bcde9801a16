"""`townhall scheduler`: enqueue the periodic jobs of TOWNHALL_PERIODIC_TASKS on time."""

from __future__ import annotations

import logging
import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

logger = logging.getLogger("townhall.scheduler")


class Command(BaseCommand):
    help = (
        "Enqueue each periodic job (SLA scan, sweeps) at its interval for the workers to run. "
        "Run exactly one scheduler per deployment."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true", help="Enqueue every job once and exit.")
        parser.add_argument(
            "--tick", type=float, default=5.0, help="Seconds between checks (default: 5)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        jobs = [
            (import_string(path), path, float(every))
            for path, every in settings.TOWNHALL_PERIODIC_TASKS
        ]
        due = {path: 0.0 for _, path, _ in jobs}
        logger.info("scheduler started with %d job(s)", len(jobs))
        try:
            while True:
                now = time.monotonic()
                for task, path, every in jobs:
                    if due[path] <= now:
                        result = task.enqueue()
                        logger.info("enqueued %s (result %s)", path, result.id)
                        due[path] = now + every
                if options["once"]:
                    return
                time.sleep(options["tick"])
        except KeyboardInterrupt:
            logger.info("scheduler stopped")
