"""`kpi_breakdown`'s two readers: the roll-ups (fast) and the facts (exact, small sets)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Sum

from townhall.catalog.models import Department, ServiceType
from townhall.insights.kpis import KpiFilters, facts_for, kpis_from_facts, local_day
from townhall.insights.rollups import SUM_COLUMNS, kpis_of_totals, rollups_for
from townhall.people.models import Channel

DIMENSION = {
    "department": "department_id",
    "service": "service_type_id",
    "channel": "channel",
    "area": "area",
}


def period_key(day: dt.date, by: str) -> str:
    """The group a day falls in: the day, its ISO week's Monday, or its month."""
    if by == "week":
        return (day - dt.timedelta(days=day.weekday())).isoformat()
    if by == "month":
        return day.strftime("%Y-%m")
    return day.isoformat()


def _labels(by: str, keys: list[Any]) -> dict[Any, str]:
    wanted = [k for k in keys if k is not None]
    if by == "department":
        return dict(Department.objects.filter(pk__in=wanted).values_list("pk", "name"))
    if by == "service":
        return dict(ServiceType.objects.filter(pk__in=wanted).values_list("pk", "name"))
    if by == "channel":
        return {k: str(Channel(k).label) if k in Channel.values else k for k in wanted}
    if by == "week":
        return {k: f"week of {k}" for k in wanted}
    return {k: k for k in wanted}


def _rows(by: str, groups: dict[Any, dict[str, Any]]) -> list[dict[str, Any]]:
    labels = _labels(by, list(groups))
    rows = [
        {"key": key, "label": labels.get(key) or ("(none)" if key in (None, "") else str(key)), **v}
        for key, v in groups.items()
    ]
    if by in DIMENSION:
        rows.sort(key=lambda r: (-r["volume"], str(r["key"])))
    else:
        rows.sort(key=lambda r: str(r["key"]))
    return rows


def breakdown_rollups(filters: KpiFilters, by: str) -> list[dict[str, Any]]:
    if by in DIMENSION:
        dim = DIMENSION[by]
        qs = rollups_for(filters, dim)
        sums = {c: Sum(c) for c in SUM_COLUMNS}
        totals = {r[dim]: r for r in qs.values(dim).annotate(**sums).order_by()}
        open_days: dict[Any, list[tuple[dt.date, int]]] = defaultdict(list)
        rows = qs.filter(open__gt=0).values(dim, "day").annotate(n=Sum("open")).order_by()
        for r in rows:
            open_days[r[dim]].append((r["day"], r["n"]))
        groups = {k: kpis_of_totals(t, open_days[k]) for k, t in totals.items()}
        return _rows(by, groups)
    qs = rollups_for(filters)
    per_key: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    open_keyed: dict[str, list[tuple[dt.date, int]]] = defaultdict(list)
    for row in qs.values("day", *SUM_COLUMNS).iterator():
        key = period_key(row["day"], by)
        for c in SUM_COLUMNS:
            per_key[key][c] += row[c]
        if row["open"]:
            open_keyed[key].append((row["day"], row["open"]))
    return _rows(by, {k: kpis_of_totals(t, open_keyed[k]) for k, t in per_key.items()})


def breakdown_facts(filters: KpiFilters, by: str) -> list[dict[str, Any]]:
    qs = facts_for(filters)
    groups: dict[Any, dict[str, Any]] = {}
    if by in DIMENSION:
        dim = DIMENSION[by]
        for key in qs.values_list(dim, flat=True).distinct().order_by():
            groups[key] = kpis_from_facts(qs.filter(**{dim: key}))
        return _rows(by, groups)
    days = sorted(set(qs.annotate(d=local_day()).values_list("d", flat=True).order_by()))
    spans: dict[str, list[dt.date]] = {}
    for day in days:
        spans.setdefault(period_key(day, by), []).append(day)
    for key, in_group in spans.items():
        narrowed = KpiFilters(
            **{**filters.__dict__, "date_from": in_group[0], "date_to": in_group[-1]}
        )
        groups[key] = kpis_from_facts(facts_for(narrowed))
    return _rows(by, groups)
