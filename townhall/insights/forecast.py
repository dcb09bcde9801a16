"""The demand forecast: daily requests per service for the next weeks, with intervals.

The model and the backtest are pure (`forecast_model`, `forecast_backtest`; see
docs/forecast.md); this module is what the rest of Townhall calls. `forecast_daily` is the
dashboards' selector; `forecast_for` is what `townhall insights forecast` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from townhall.insights.forecast_backtest import BacktestResult, backtest
from townhall.insights.forecast_data import (
    ServiceRef,
    council_holidays,
    fact_daily_counts,
    service_by_code,
    top_service_types,
)
from townhall.insights.forecast_model import (
    LEVELS,
    Forecast,
    ForecastDay,
    InsufficientHistory,
    ModelConfig,
    Spike,
    daily_series,
    forecast_series,
    spikes,
)

__all__ = [
    "LEVELS",
    "BacktestResult",
    "Forecast",
    "ForecastDay",
    "InsufficientHistory",
    "ModelConfig",
    "ServiceForecast",
    "ServiceRef",
    "Spike",
    "backtest",
    "council_holidays",
    "daily_series",
    "fact_daily_counts",
    "forecast_daily",
    "forecast_for",
    "forecast_series",
    "holiday_years",
    "service_by_code",
    "spikes",
    "top_service_types",
    "week_totals",
]

SELECTOR_LEVEL = 0.8  # the interval forecast_daily returns as lower/upper
MAX_WEEKS = 52


def holiday_years(series: pd.Series, days: int) -> range:
    first = pd.Timestamp(series.index.min()).year
    last = (pd.Timestamp(series.index.max()) + pd.Timedelta(days=days)).year
    return range(first, last + 1)


@dataclass(frozen=True)
class ServiceForecast:
    label: str  # "all" or the service type's code
    forecast: Forecast
    spikes: list[Spike]


def forecast_for(
    *, service: ServiceRef | None, weeks: int, include_personal: bool = True
) -> ServiceForecast:
    """Forecast one service type (None: every request) from the facts.

    Raise InsufficientHistory with under 28 days of history, ValueError for a bad horizon.
    """
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"Weeks must be between 1 and {MAX_WEEKS}.")
    counts = fact_daily_counts(
        service_type_id=service.id if service else None, include_personal=include_personal
    )
    if counts.empty:
        raise InsufficientHistory("No history: there are no requests to forecast from.")
    holidays, note = council_holidays(holiday_years(counts, weeks * 7))
    result = forecast_series(counts, days=weeks * 7, holidays=holidays)
    if note:
        result.notes.append(note)
    return ServiceForecast(
        label=service.code if service else "all",
        forecast=result,
        spikes=spikes(result, counts),
    )


def forecast_daily(*, service_type_id: int | None = None, weeks: int = 8) -> list[dict[str, Any]]:
    """Return the next `weeks` weeks of daily demand from the facts, one dict a day:
    {"date": date, "mean": float, "lower": float, "upper": float}; lower/upper bound the
    80 % interval; "mean" is the point forecast, the model's median (docs/forecast.md).
    `service_type_id=None`: every request. Requests of personal services are
    left out (the dashboards may be seen widely). [] with under 28 days of history;
    ValueError for `weeks` outside 1-52.
    """
    service = (
        ServiceRef(id=service_type_id, code="", name="") if service_type_id is not None else None
    )
    try:
        result = forecast_for(service=service, weeks=weeks, include_personal=False)
    except InsufficientHistory:
        return []
    return [
        {
            "date": day.day,
            "mean": round(day.mean, 2),
            "lower": round(day.intervals[SELECTOR_LEVEL][0], 2),
            "upper": round(day.intervals[SELECTOR_LEVEL][1], 2),
        }
        for day in result.forecast.days
    ]


def week_totals(days: list[ForecastDay]) -> list[tuple[date, date, float]]:
    """Return (first day, last day, expected requests) per 7-day block."""
    return [
        (days[i].day, days[min(i + 6, len(days) - 1)].day, sum(d.mean for d in days[i : i + 7]))
        for i in range(0, len(days), 7)
    ]
