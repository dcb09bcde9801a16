"""`townhall experience scan | weights-check | journey`: the frustration index
(docs/frustration.md)."""

from __future__ import annotations

from argparse import ArgumentParser
from functools import partial
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from rich.progress import Progress

from townhall.experience.frustration_check import OutcomeCheck, weights_check
from townhall.experience.selectors_frustration import citizen_exists, open_cases_count
from townhall.experience.services_frustration import frustration_scan, journey_frustration


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


class Command(BaseCommand):
    help = (
        "The frustration index. Sub-commands: scan (compute every open case's index, flag "
        "those at or above the threshold and send their residents an honest update, at most "
        "once per TOWNHALL_FRUSTRATION_UPDATE_DAYS), weights-check (which signals preceded "
        "a reopening or a low satisfaction score in this council's data, beside the "
        "configured weights), journey (one resident's index, by their id)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        scan = sub.add_parser("scan", help="compute, flag and tell (what the hourly task runs)")
        scan.add_argument("--batch", type=int, default=500, help="cases per batch (default 500)")
        check = sub.add_parser(
            "weights-check", help="observed effect of each signal beside its weight"
        )
        check.add_argument(
            "--since-days", type=int, default=None, help="only cases resolved in these days"
        )
        journey = sub.add_parser("journey", help="a resident's journey index and breakdown")
        journey.add_argument("citizen_id", type=int, help="the resident's id (not a contact)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "scan":
            self._scan(options["batch"], options["verbosity"])
        elif action == "weights-check":
            since = options["since_days"]
            if since is not None and since <= 0:
                raise CommandError("--since-days must be a positive number of days.")
            for check in weights_check(since_days=since):
                self._print_check(check)
        else:
            if not citizen_exists(options["citizen_id"]):
                raise CommandError("No resident with that id.")
            index = journey_frustration(citizen_id=options["citizen_id"])
            self.stdout.write(f"journey index {index.score:.3f}")
            for c in index.contributions:
                self.stdout.write(f"  {c.points:6.3f}  {c.why}")

    def _scan(self, batch: int, verbosity: int) -> None:
        if not 1 <= batch <= 10_000:
            raise CommandError("--batch must be between 1 and 10000.")
        with Progress(disable=verbosity == 0) as progress:
            bar = progress.add_task("open cases", total=open_cases_count())
            result = frustration_scan(batch=batch, progress=partial(progress.advance, bar))
        threshold = settings.TOWNHALL_EXPERIENCE.frustration_threshold
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.cases} open cases scored; {result.above} at or above {threshold:g}; "
                f"{result.flagged} newly flagged; {result.told} residents sent an update; "
                f"{result.tone_signals} negative messages found."
            )
        )

    def _print_check(self, check: OutcomeCheck) -> None:
        title = {"reopen": "Reopened after resolution", "low_csat": "Low satisfaction score"}
        self.stdout.write(
            f"\n{title[check.outcome]}: {check.cases} cases, {check.positive} with the outcome"
        )
        if check.note:
            self.stdout.write(f"  ({check.note})")
        self.stdout.write(
            f"  {'signal':<20}{'weight':>8}{'cases':>8}{'rate with':>11}{'without':>9}{'coef':>8}"
        )
        for e in check.effects:
            coef = "-" if e.coefficient is None else f"{e.coefficient:.3f}"
            self.stdout.write(
                f"  {e.signal:<20}{e.weight:>8.3f}{e.with_signal:>8}"
                f"{_rate(e.rate_with):>11}{_rate(e.rate_without):>9}{coef:>8}"
            )
