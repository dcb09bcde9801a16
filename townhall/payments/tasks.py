"""Task entry points for the payments app."""

from __future__ import annotations

import logging

from django_tasks import task

from townhall.core import clock
from townhall.payments.conf import payments_setting
from townhall.payments.reconcile import payments_reconcile, reconcile_due, report_lines

log = logging.getLogger("townhall.payments")


@task()
def payments_reconcile_task() -> int:
    """Reconcile yesterday once a day (the scheduler calls this hourly); return how many
    mismatches were found (-1 if nothing was due)."""
    day = reconcile_due(clock.now(), int(payments_setting("RECONCILE_HOUR")))
    if day is None:
        return -1
    report = payments_reconcile(day=day)
    if report.mismatches:
        log.warning("\n".join(report_lines(report)))
    return len(report.mismatches)
