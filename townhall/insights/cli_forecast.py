"""`townhall insights forecast` (the forecast owner fills this in)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


def add_arguments(sub: Any) -> None:
    """Add the `forecast` sub-command to `sub` (argparse sub-parsers)."""
    forecast = sub.add_parser("forecast", help="daily demand per service for the next weeks")
    forecast.add_argument("--backtest", action="store_true", help="MAPE against seasonal-naive")
    forecast.add_argument("--weeks", type=int, default=8, help="weeks ahead (default 8)")


def handle(command: BaseCommand, options: dict[str, Any]) -> None:
    """Run `forecast`."""
    raise NotImplementedError
