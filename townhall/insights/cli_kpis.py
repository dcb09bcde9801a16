"""`townhall insights kpis` and `townhall insights refresh` (the KPI owner fills these in)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


def add_arguments(sub: Any) -> None:
    """Add the `kpis` and `refresh` sub-commands to `sub` (argparse sub-parsers)."""
    kpis = sub.add_parser("kpis", help="print every KPI for a period")
    kpis.add_argument("--from", dest="date_from", help="first day (YYYY-MM-DD)")
    kpis.add_argument("--to", dest="date_to", help="last day (YYYY-MM-DD)")
    kpis.add_argument("--json", action="store_true", help="JSON, keys as in docs/kpis.md")
    sub.add_parser("refresh", help="copy changed cases into the facts; refresh the roll-ups")


def handle(command: BaseCommand, options: dict[str, Any]) -> None:
    """Run `kpis` or `refresh`."""
    raise NotImplementedError
