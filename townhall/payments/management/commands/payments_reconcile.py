"""`townhall payments_reconcile --date YYYY-MM-DD`: one day's payments against the provider."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from townhall.core import clock
from townhall.payments.providers import PROVIDERS
from townhall.payments.providers.base import ProviderError
from townhall.payments.reconcile import payments_reconcile, report_lines


class Command(BaseCommand):
    help = (
        "Compare one day's payments (UTC) with the payment provider's records and list "
        "every mismatch: missing here, missing at the provider, amount, state, refund. "
        "Exit status 1 if any."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--date",
            dest="day",
            type=date.fromisoformat,
            help="The day to reconcile, YYYY-MM-DD (default: yesterday, UTC).",
        )
        parser.add_argument(
            "--provider", choices=PROVIDERS, help="The provider (default: the configured one)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        day = options["day"] or clock.now().date() - timedelta(days=1)
        try:
            report = payments_reconcile(day=day, provider=options["provider"])
        except ProviderError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("\n".join(report_lines(report)))
        if report.mismatches:
            raise SystemExit(1)
