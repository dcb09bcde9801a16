"""`townhall sla_scan`: record SLA breaches now (the worker also runs it periodically)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from townhall.cases.services import case_sla_scan, case_sweep


class Command(BaseCommand):
    help = "Record SLA breaches on overdue open cases and acknowledge stale new cases."

    def handle(self, *args: Any, **options: Any) -> None:
        breached = case_sla_scan()
        swept = case_sweep()
        self.stdout.write(
            f"{breached} case(s) newly breached; {swept} stale new case(s) acknowledged."
        )
