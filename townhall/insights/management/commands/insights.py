"""`townhall insights kpis [--from DATE --to DATE] [--json] | refresh | forecast [--backtest]
[--weeks N]`: the measures, the roll-ups and the demand forecast."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from townhall.insights import cli_forecast, cli_kpis


class Command(BaseCommand):
    help = (
        "Measures and forecasts. Sub-commands: kpis (every KPI for a period, --json for "
        "machines), refresh (copy changed cases into the fact table and refresh the "
        "roll-ups), forecast (daily demand per service for the next weeks; --backtest "
        "prints the model's MAPE beside the seasonal-naive MAPE of the same run)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        cli_kpis.add_arguments(sub)
        cli_forecast.add_arguments(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "forecast":
            cli_forecast.handle(self, options)
        else:
            cli_kpis.handle(self, options)
