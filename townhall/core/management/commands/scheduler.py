"""`townhall scheduler`: enqueue the periodic jobs of TOWNHALL_PERIODIC_TASKS on time.

Only one scheduler enqueues at a time: each copy first takes the deployment's scheduler
lock (core/locks.py: a PostgreSQL advisory lock, or a file lock in VAR_DIR on SQLite) and
keeps it for its whole life. A second copy waits as a standby, retrying, and takes over
when the holder stops.
"""

from __future__ import annotations

import logging
import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from townhall.core.locks import SingletonLock, singleton_lock

logger = logging.getLogger("townhall.scheduler")


class Command(BaseCommand):
    help = (
        "Enqueue each periodic job (SLA scan, sweeps) at its interval for the workers to run. "
        "Holds the scheduler lock while running: a second copy waits as a standby and takes "
        "over when the first stops, so jobs are never enqueued twice."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="Enqueue every job once and exit (nothing if another scheduler runs).",
        )
        parser.add_argument(
            "--tick", type=float, default=5.0, help="Seconds between checks (default: 5)."
        )
        parser.add_argument(
            "--retry",
            type=float,
            default=15.0,
            help="Seconds a standby waits between tries for the lock (default: 15).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["tick"] <= 0 or options["retry"] <= 0:
            raise CommandError("--tick and --retry must be positive numbers of seconds.")
        jobs = [
            (import_string(path), path, float(every))
            for path, every in settings.TOWNHALL_PERIODIC_TASKS
        ]
        lock = singleton_lock("scheduler")
        try:
            while True:
                if not self._wait_for(lock, once=options["once"], retry=options["retry"]):
                    return
                logger.info("scheduler started with %d job(s)", len(jobs))
                if self._run(lock, jobs, once=options["once"], tick=options["tick"]):
                    return
                logger.warning("scheduler lock lost; enqueuing stops until it is taken again")
                lock.release()
        except KeyboardInterrupt:
            logger.info("scheduler stopped")
        finally:
            lock.release()

    def _wait_for(self, lock: SingletonLock, *, once: bool, retry: float) -> bool:
        """Take the lock, waiting as long as another scheduler holds it (--once: no wait)."""
        while not lock.acquire():
            if once:
                logger.info("another scheduler holds the lock; nothing enqueued")
                return False
            logger.info("another scheduler holds the lock; trying again in %g s", retry)
            time.sleep(retry)
        return True

    def _run(
        self, lock: SingletonLock, jobs: list[tuple[Any, str, float]], *, once: bool, tick: float
    ) -> bool:
        """Enqueue jobs as they fall due while the lock is ours; True when done (--once)."""
        due = {path: 0.0 for _, path, _ in jobs}
        while True:
            if not lock.still_held():
                return False
            now = time.monotonic()
            for task, path, every in jobs:
                if due[path] <= now:
                    result = task.enqueue()
                    logger.info("enqueued %s (result %s)", path, result.id)
                    due[path] = now + every
            if once:
                return True
            time.sleep(tick)
