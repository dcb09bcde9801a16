"""`townhall insights forecast`: daily demand for the next weeks, with intervals, and
`--backtest`: the model's MAPE beside the seasonal-naive MAPE of the same run.

History comes from the fact table (CaseFact), or with `--from-csv FILE --format nyc|boston`
straight from a council's export (to measure the model before importing anything).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import Progress

from townhall.insights import forecast as fc
from townhall.insights.forecast_csv import FORMATS, CsvProblem, read_requests, top_services
from townhall.insights.forecast_csv import daily_counts as csv_daily_counts
from townhall.waste.public_holidays import public_holidays

MAX_TOP = 20


def add_arguments(sub: Any) -> None:
    """Add the `forecast` sub-command to `sub` (argparse sub-parsers)."""
    forecast = sub.add_parser(
        "forecast",
        help="daily demand per service for the next weeks",
        description=(
            "Forecast daily requests (point forecast, 80 % and 95 % intervals) per service type, "
            "flagging weeks well above the recent usual. --backtest scores the model "
            "against seasonal-naive forecasts at several cut-offs of the same history."
        ),
    )
    forecast.add_argument("--backtest", action="store_true", help="MAPE against seasonal-naive")
    forecast.add_argument("--weeks", type=int, default=8, help="weeks ahead (default 8, max 52)")
    forecast.add_argument(
        "--service", help="one service type code (with --from-csv: the file's type name)"
    )
    forecast.add_argument(
        "--top", type=int, default=0, help=f"also the N busiest service types (max {MAX_TOP})"
    )
    forecast.add_argument("--json", action="store_true", help="JSON instead of text")
    forecast.add_argument("--from-csv", dest="from_csv", help="read history from this export")
    forecast.add_argument("--format", dest="csv_format", choices=sorted(FORMATS))
    forecast.add_argument(
        "--until", help="with --from-csv: ignore requests opened after this day (YYYY-MM-DD)"
    )
    forecast.add_argument(
        "--cutoffs", type=int, default=13, help="backtest cut-offs, 4 weeks apart (default 13)"
    )


# A series to forecast: (label, daily counts, holidays, note about the holidays).
Series = tuple[str, pd.Series, frozenset[date], str]


def _check(options: dict[str, Any]) -> None:
    if not 1 <= options["weeks"] <= fc.MAX_WEEKS:
        raise CommandError(f"--weeks must be between 1 and {fc.MAX_WEEKS}.")
    if not 0 <= options["top"] <= MAX_TOP:
        raise CommandError(f"--top must be between 0 and {MAX_TOP}.")
    if not 1 <= options["cutoffs"] <= 60:
        raise CommandError("--cutoffs must be between 1 and 60.")
    if bool(options.get("from_csv")) != bool(options.get("csv_format")):
        raise CommandError("--from-csv and --format go together (e.g. --format nyc).")
    if options.get("until") and not options.get("from_csv"):
        raise CommandError("--until only applies with --from-csv.")


def _csv_series(options: dict[str, Any], days: int) -> list[Series]:
    fmt = options["csv_format"]
    try:
        requests = read_requests(Path(options["from_csv"]), fmt)
    except CsvProblem as exc:
        raise CommandError(str(exc)) from exc
    if options.get("until"):
        try:
            until = date.fromisoformat(options["until"])
        except ValueError as exc:
            raise CommandError("--until must be a date, YYYY-MM-DD.") from exc
        requests = requests[requests["day"] <= pd.Timestamp(until)]
    if options.get("service"):
        names = [options["service"]]
        if not (requests["service"] == names[0]).any():
            raise CommandError(f"No requests of type {names[0]!r} in the file.")
    else:
        names = [None, *top_services(requests, options["top"])]
    country, subdivision = FORMATS[fmt][3]
    found: list[Series] = []
    for name in names:
        counts = csv_daily_counts(requests, service=name)
        if counts.empty:
            raise CommandError("No history: the file has no requests to forecast from.")
        years = fc.holiday_years(counts, days)
        holidays = frozenset(public_holidays(country=country, subdivision=subdivision, years=years))
        found.append((name or "all", counts, holidays, ""))
    return found


def _fact_series(options: dict[str, Any], days: int) -> list[Series]:
    if options.get("service"):
        try:
            services = [fc.service_by_code(options["service"])]
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        refs: list[fc.ServiceRef | None] = list(services)
    else:
        refs = [None, *fc.top_service_types(options["top"])]
    found: list[Series] = []
    for ref in refs:
        counts = fc.fact_daily_counts(service_type_id=ref.id if ref else None)
        if counts.empty:
            raise CommandError(
                "No history: there are no requests to forecast from "
                "(import history with `townhall import cases` or run `insights refresh`)."
            )
        holidays, note = fc.council_holidays(fc.holiday_years(counts, days))
        found.append((ref.code if ref else "all", counts, holidays, note))
    return found


def handle(command: BaseCommand, options: dict[str, Any]) -> None:
    """Run `forecast`."""
    _check(options)
    days = options["weeks"] * 7
    series = _csv_series(options, days) if options.get("from_csv") else _fact_series(options, days)
    if options["backtest"]:
        _backtest(command, options, series, days)
    else:
        _forecast(command, options, series, days)


def _forecast(
    command: BaseCommand, options: dict[str, Any], series: list[Series], days: int
) -> None:
    out: list[dict[str, Any]] = []
    for label, counts, holidays, note in series:
        try:
            result = fc.forecast_series(counts, days=days, holidays=holidays)
        except fc.InsufficientHistory as exc:
            raise CommandError(f"{label}: {exc}") from exc
        if note:
            result.notes.append(note)
        out.append(_as_dict(label, result, fc.spikes(result, counts)))
    if options["json"]:
        command.stdout.write(json.dumps({"forecasts": out}, indent=2))
        return
    for item in out:
        _print_forecast(command, item)


def _as_dict(label: str, result: fc.Forecast, found: list[fc.Spike]) -> dict[str, Any]:
    def bounds(day: fc.ForecastDay, level: float) -> list[float]:
        return [round(v, 1) for v in day.intervals[level]]

    return {
        "service": label,
        "history_days": result.history_days,
        "seasonality": result.seasonality,
        "notes": result.notes,
        "days": [
            {
                "date": d.day.isoformat(),
                "mean": round(d.mean, 1),
                "interval_80": bounds(d, 0.8),
                "interval_95": bounds(d, 0.95),
            }
            for d in result.days
        ],
        "weeks": [
            {"from": a.isoformat(), "to": b.isoformat(), "expected": round(total, 1)}
            for a, b, total in fc.week_totals(result.days)
        ],
        "spikes": [
            {
                "from": s.start.isoformat(),
                "to": s.end.isoformat(),
                "expected": round(s.expected, 1),
                "usual": round(s.usual, 1),
                "increase_pct": round(100 * s.increase, 1),
            }
            for s in found
        ],
    }


def _print_forecast(command: BaseCommand, item: dict[str, Any]) -> None:
    write = command.stdout.write
    write(
        f"Forecast for {item['service']}: {len(item['days'])} days from "
        f"{item['history_days']} days of history ({item['seasonality']})."
    )
    for note in item["notes"]:
        write(f"  Note: {note}")
    write(f"  {'date':10} {'day':3} {'mean':>7} {'80 % interval':>17} {'95 % interval':>17}")
    for d in item["days"]:
        weekday = date.fromisoformat(d["date"]).strftime("%a")
        lo80, hi80 = d["interval_80"]
        lo95, hi95 = d["interval_95"]
        write(
            f"  {d['date']} {weekday} {d['mean']:7.1f} {lo80:8.1f}-{hi80:<8.1f} "
            f"{lo95:8.1f}-{hi95:<8.1f}"
        )
    write("  Weeks:")
    for w in item["weeks"]:
        write(f"  {w['from']} to {w['to']}: {w['expected']:.0f} requests expected")
    if not item["spikes"]:
        write("  No week is expected to be more than 15 % above the last 8 weeks' average.")
    for s in item["spikes"]:
        write(
            f"  Spike: {s['from']} to {s['to']}: {s['expected']:.0f} requests expected, "
            f"+{s['increase_pct']:.0f} % on the usual {s['usual']:.0f} a week."
        )
    write("")


def _backtest(
    command: BaseCommand, options: dict[str, Any], series: list[Series], days: int
) -> None:
    results: list[tuple[str, fc.BacktestResult]] = []
    console = Console(stderr=True)
    with Progress(console=console, transient=True, disable=options["json"]) as progress:
        for label, counts, holidays, _note in series:
            task = progress.add_task(f"backtest {label}", total=options["cutoffs"])

            def step(done: int, total: int, task: Any = task) -> None:
                progress.update(task, completed=done, total=total)

            results.append((label, _run_backtest(label, counts, holidays, days, options, step)))
    if options["json"]:
        payload = {"backtests": [{"service": label, **r.as_dict()} for label, r in results]}
        command.stdout.write(json.dumps(payload, indent=2))
        return
    write = command.stdout.write
    for label, r in results:
        write(
            f"Backtest {label}: {len(r.cutoffs)} cut-offs {r.cutoffs[0]}..{r.cutoffs[-1]}, "
            f"{r.horizon} days ahead, {r.days_scored} days scored "
            f"({r.zero_days} with no requests left out of MAPE)."
        )
        write(f"  model MAPE           {r.model.mape:6.1f} %")
        write(f"  seasonal-naive MAPE  {r.baseline.mape:6.1f} %  ({r.baseline_name}, stronger)")
        write(f"  naive-week MAPE      {r.naive_week.mape:6.1f} %")
        if r.naive_year is not None:
            write(f"  naive-year MAPE      {r.naive_year.mape:6.1f} %")
        write(
            f"  weekly totals MAPE   {r.model.weekly_mape:6.1f} % (baseline "
            f"{r.baseline.weekly_mape:.1f} %); MASE {r.model.mase:.2f} (baseline "
            f"{r.baseline.mase:.2f})"
        )
        cover = ", ".join(f"{int(100 * k)} %: {100 * v:.1f} %" for k, v in r.coverage.items())
        write(f"  interval coverage    {cover}; {1000 * r.fit_seconds:.0f} ms a forecast")
        for note in r.notes:
            write(f"  Note: {note}")


def _run_backtest(
    label: str,
    counts: pd.Series,
    holidays: frozenset[date],
    days: int,
    options: dict[str, Any],
    step: Callable[[int, int], None],
) -> fc.BacktestResult:
    try:
        return fc.backtest(
            counts,
            horizon=days,
            count=options["cutoffs"],
            step=28,
            holidays=holidays,
            progress=step,
        )
    except fc.InsufficientHistory as exc:
        raise CommandError(f"{label}: {exc}") from exc
