"""`townhall insights kpis` and `townhall insights refresh`."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from townhall.insights.facts import insights_refresh
from townhall.insights.kpis import KPI_KEYS, KpiFilters, kpis_compute


def add_arguments(sub: Any) -> None:
    """Add the `kpis` and `refresh` sub-commands to `sub` (argparse sub-parsers)."""
    kpis = sub.add_parser("kpis", help="print every KPI for a period")
    kpis.add_argument("--from", dest="date_from", help="first day (YYYY-MM-DD)")
    kpis.add_argument("--to", dest="date_to", help="last day (YYYY-MM-DD)")
    kpis.add_argument("--json", action="store_true", help="JSON, keys as in docs/kpis.md")
    refresh = sub.add_parser(
        "refresh", help="copy changed cases into the facts; refresh the roll-ups"
    )
    refresh.add_argument(
        "--full", action="store_true", help="rebuild every live fact and every roll-up day"
    )


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} must be a date as YYYY-MM-DD, not {value[:40]!r}") from None


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


def handle(command: BaseCommand, options: dict[str, Any]) -> None:
    """Run `kpis` or `refresh`."""
    if options["action"] == "refresh":
        _refresh(command, full=options.get("full", False))
        return
    date_from = _date(options.get("date_from"), "--from")
    date_to = _date(options.get("date_to"), "--to")
    if date_from and date_to and date_from > date_to:
        raise CommandError("--from must not be after --to")
    values = kpis_compute(KpiFilters(date_from=date_from, date_to=date_to))
    if options.get("json"):
        command.stdout.write(json.dumps({k: values[k] for k in KPI_KEYS}, indent=2))
        return
    period = f"{date_from or 'start'} to {date_to or 'today'}"
    command.stdout.write(f"KPIs for requests opened {period} (docs/kpis.md)")
    width = max(len(k) for k in KPI_KEYS)
    for key in KPI_KEYS:
        command.stdout.write(f"  {key:<{width}}  {_shown(values[key])}")


def _refresh(command: BaseCommand, *, full: bool) -> None:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("cases into facts", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        finished = insights_refresh(full=full, progress=progress)
    if finished is None:
        raise CommandError("Another refresh is running; nothing was done.")
    result, days = finished
    command.stdout.write(
        f"facts: {result.cases_seen} cases read, {result.facts_created} created, "
        f"{result.facts_updated} updated; roll-ups: {days} days rebuilt"
    )
