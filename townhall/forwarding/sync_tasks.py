"""Task entry points for following forwarded cases (the scheduler runs them)."""

from __future__ import annotations

import logging

from django_tasks import task

from townhall.forwarding.syncing import forwards_poll

log = logging.getLogger("townhall.forwarding")


@task()
def forwards_poll_task() -> int:
    """Poll the bodies for the status of sent forwards due a read; return how many were
    read (settings' TOWNHALL_PERIODIC_TASKS runs it every minute)."""
    log.info("forwarding: poll round starts")
    result = forwards_poll()
    log.info(
        "forwarding: poll round ends: %d read, %d changes applied, %d bodies failed",
        result.read,
        result.applied,
        result.failed_bodies,
    )
    return result.read
