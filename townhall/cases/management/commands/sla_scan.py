"""`townhall sla_scan`: record SLA breaches now (the worker also runs it periodically)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from townhall.cases.services import case_acknowledge_pending, case_sla_scan


class Command(BaseCommand):
    help = "Record SLA breaches on overdue open cases and acknowledge stale new cases."

    def handle(self, *args: Any, **options: Any) -> None:
        breached = case_sla_scan()
        swept = case_acknowledge_pending()
        self.stdout.write(
            f"{breached} case(s) newly breached; {swept} waiting new case(s) acknowledged."
        )
