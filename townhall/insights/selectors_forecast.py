"""The dashboards' demand forecast (`insights.forecast.forecast_daily`), cached for an hour,
and drawn as coordinates for a server-rendered chart. Council-wide figures (every
department's requests) go only to council-wide readers; staff limited to departments see
the forecast of one of their services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from townhall.catalog.models import ServiceType
from townhall.insights.selectors import Scope

CACHE_SECONDS = 3600
WEEKS = 8


def forecast_allowed(scope: Scope, service_type_id: int | None) -> bool:
    """Whole-council forecasts for council-wide readers; a service's for its department."""
    if service_type_id is None:
        return scope.department_ids is None
    department = (
        ServiceType.objects.filter(pk=service_type_id)
        .values_list("department_id", flat=True)
        .first()
    )
    return department is not None and scope.allows(department)


def forecast_days(service_type_id: int | None, *, weeks: int = WEEKS) -> list[dict[str, Any]]:
    """The next `weeks` weeks, a dict a day (date, mean, lower, upper: the 80 % interval);
    [] with too little history. Cached per service and day for an hour."""
    from townhall.insights.forecast import forecast_daily

    key = f"insights:forecast:{service_type_id or 'all'}:{weeks}:{timezone.localdate()}"
    days: list[dict[str, Any]] | None = cache.get(key)
    if days is None:
        days = forecast_daily(service_type_id=service_type_id, weeks=weeks)
        cache.set(key, days, CACHE_SECONDS)
    return days


def forecast_chart(days: list[dict[str, Any]]) -> dict[str, Any]:
    """SVG coordinates (100 high, 10 wide a day): the interval as a polygon, the expected
    requests as a line, and the scale's top."""
    top = max((d["upper"] for d in days), default=0.0) or 1.0

    def y(value: float) -> float:
        return round(105 - 100 * max(value, 0.0) / top, 1)

    upper = [f"{i * 10 + 5},{y(d['upper'])}" for i, d in enumerate(days)]
    lower = [f"{i * 10 + 5},{y(d['lower'])}" for i, d in enumerate(days)]
    mean = [f"{i * 10 + 5},{y(d['mean'])}" for i, d in enumerate(days)]
    return {
        "width": max(len(days) * 10, 10),
        "band": " ".join(upper + lower[::-1]),
        "line": " ".join(mean),
        "top": round(top, 1),
        "first": days[0]["date"] if days else None,
        "last": days[-1]["date"] if days else None,
        "total": round(sum(d["mean"] for d in days), 1),
    }


def forecast_weeks(days: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The days summed per 7-day block: {"start", "end", "mean", "lower", "upper"} (the
    bounds summed too, which widens the interval: a rough guide, said so on the page)."""
    out = []
    for i in range(0, len(days), 7):
        block = days[i : i + 7]
        start: dt.date = block[0]["date"]
        out.append(
            {
                "start": start,
                "end": block[-1]["date"],
                "mean": round(sum(d["mean"] for d in block), 1),
                "lower": round(sum(d["lower"] for d in block), 1),
                "upper": round(sum(d["upper"] for d in block), 1),
            }
        )
    return out
