"""Daily roll-ups of the facts, refreshed for the days touched, and the KPIs read off them.

One `DailyRollup` row sums the facts opened on one local day for one value of none, one
or two of department, service, channel and area (`grouping`, a bit per dimension; the
others summed over): a dashboard reads the grouping of the filters it has, about one row
per day (per group when broken down). Filters on three or four dimensions (with the
breakdown's) read the facts: that grouping would hold about a row per fact, and so
narrow a selection is small. Each refresh rebuilds whole days: the days on which
the facts changed since the last one (new ids, or `updated_at` since), so a fact that
moved department or changed status is counted once, in its new place.

Durations are cumulative counts below fixed log edges (models.ROLLUP_EDGES, 15 min x
2^(k/2)): a percentile is read as the geometric middle of the bucket holding the
nearest-rank value, so it is within a factor 2^(1/4) (19 %) of the exact figure; values
under 15 min are read as 7.5 min, over the last edge (483 days) as that edge.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from townhall.insights.kpis import (
    ACK_Q,
    RESOLVE_END,
    KpiFilters,
    fact_counts,
    kpis_of_counts,
    local_day,
    local_midnight,
    resolve_q,
)
from townhall.insights.models import (
    ROLLUP_BUCKETS,
    ROLLUP_DIMENSIONS,
    ROLLUP_EDGES,
    CaseFact,
    DailyRollup,
    RefreshMark,
)

BITS = {"department_id": 1, "service_type_id": 2, "channel": 4, "area": 8}
# Groupings kept: none, one or two dimensions. With three or four, rows are about as many
# as facts (36 services x 9 channels x 40 areas a day), so those filters read the facts,
# through their (service, opened) or (department, opened) index, and few of them.
MAX_DIMENSIONS = 2
PAIRS = (3, 5, 6, 9, 10, 12)  # built from the facts
SUMMED_FROM = {1: 3, 2: 3, 4: 5, 8: 9, 0: 3}  # built from a pair that holds them


def dims_of(grouping: int) -> list[str]:
    return [d for d in ROLLUP_DIMENSIONS if grouping & BITS[d]]


def rollups_cover(filters: KpiFilters, extra: str = "") -> bool:
    """Whether the roll-ups hold the grouping `filters` (and a breakdown by `extra`) need."""
    return len(dims_of(grouping_of(filters, extra))) <= MAX_DIMENSIONS


ACK_COLUMNS = [f"ack_lt_{k}" for k in range(ROLLUP_BUCKETS)]
RESOLVE_COLUMNS = [f"resolve_lt_{k}" for k in range(ROLLUP_BUCKETS)]
SUM_COLUMNS = [
    "volume",
    "live",
    "channel_known",
    "digital",
    "finished",
    "first_contact",
    "closed_with_due",
    "on_time",
    "open",
    "staff_minutes",
    "live_staff_minutes",
    "csat_count",
    "csat_sum",
    "nps_count",
    "nps_promoters",
    "nps_detractors",
    "resolved_once",
    "reopened",
    "ack_count",
    "resolve_count",
    *ACK_COLUMNS,
    *RESOLVE_COLUMNS,
]
# New facts: ids above the last one seen. Changed facts, and new ones committed late
# (a writer's transaction open across a refresh): `updated_at` since the last refresh
# started, less this margin. A transaction open longer than that (a long import) is
# followed by `townhall insights refresh --full` (docs/kpis.md).
OVERLAP_IDS = 0
OVERLAP_TIME = dt.timedelta(minutes=10)


def _fact_sums() -> dict[str, Any]:
    """The roll-up columns as aggregates over facts (annotation names prefixed `r_`)."""
    sums = fact_counts()
    for k, edge in enumerate(ROLLUP_EDGES):
        below = dt.timedelta(seconds=edge)
        sums[ACK_COLUMNS[k]] = Count(
            "id", filter=ACK_Q & Q(acknowledged_at__lt=F("opened_at") + below)
        )
        sums[RESOLVE_COLUMNS[k]] = Count(
            "id", filter=resolve_q() & Q(resolve_end__lt=F("opened_at") + below)
        )
    return {f"r_{name}": expr for name, expr in sums.items()}


def _days_q(days: Iterable[dt.date]) -> Q:
    """Facts opened on any of `days` (local days), as index-friendly ranges."""
    q = Q()
    runs: list[list[dt.date]] = []
    for day in sorted(set(days)):
        if runs and day - runs[-1][1] == dt.timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    for first, last in runs:
        q |= Q(
            opened_at__gte=local_midnight(first),
            opened_at__lt=local_midnight(last + dt.timedelta(days=1)),
        )
    return q


def _insert_select(queryset: QuerySet[Any], grouping: int, dims: Iterable[str]) -> None:
    """INSERT the rows of `queryset` (day, `dims` and the sums, all prefixed r_) as
    roll-up rows of `grouping`; dimensions not in `dims` are left empty."""
    table = DailyRollup._meta.db_table
    qn = connection.ops.quote_name
    sql, params = queryset.query.sql_with_params()
    columns = ["grouping", "day", *ROLLUP_DIMENSIONS, *SUM_COLUMNS]
    selected = [str(grouping), "sub.r_day"]
    for dim in ROLLUP_DIMENSIONS:
        if dim in dims:
            selected.append(f"sub.r_{dim}")
        else:
            selected.append("NULL" if dim.endswith("_id") else "''")
    selected += [f"sub.r_{c}" for c in SUM_COLUMNS]
    # Names are ours and the ORM's compiled SQL; values are passed as parameters.
    insert = f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) "
    select = f"SELECT {', '.join(selected)} FROM ({sql}) sub"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(insert + select, params)


def rollups_rebuild(days: Iterable[dt.date] | None) -> None:
    """Rebuild the roll-ups of `days` (every day if None) from the facts."""
    day_list = None if days is None else sorted(set(days))
    if day_list == []:
        return
    facts = CaseFact.objects.all()
    rollups = DailyRollup.objects.all()
    if day_list is not None:
        facts = facts.filter(_days_q(day_list))
        rollups = rollups.filter(day__in=day_list)
    with transaction.atomic():
        rollups.delete()
        for grouping in PAIRS:
            dims = dims_of(grouping)
            from_facts: QuerySet[Any, Any] = facts.annotate(
                r_day=local_day(), **{f"r_{d}": F(d) for d in dims}
            ).annotate(resolve_end=RESOLVE_END)
            from_facts = from_facts.values("r_day", *(f"r_{d}" for d in dims))
            _insert_select(from_facts.annotate(**_fact_sums()).order_by(), grouping, dims)
        for grouping, source in SUMMED_FROM.items():
            dims = dims_of(grouping)
            base = DailyRollup.objects.filter(grouping=source)
            if day_list is not None:
                base = base.filter(day__in=day_list)
            coarse = (
                base.annotate(r_day=F("day"), **{f"r_{d}": F(d) for d in dims})
                .values("r_day", *(f"r_{d}" for d in dims))
                .annotate(**{f"r_{c}": Sum(c) for c in SUM_COLUMNS})
                .order_by()
            )
            _insert_select(coarse, grouping, dims)


def _mark(key: str) -> RefreshMark:
    return RefreshMark.objects.get_or_create(key=key)[0]


def rollups_refresh(*, full: bool = False) -> int:
    """Rebuild the days whose facts changed since the last refresh (all if `full` or
    never built); return the number of days rebuilt."""
    started = timezone.now()
    id_mark, at_mark = _mark("rollup.fact_id"), _mark("rollup.fact_at")
    top = CaseFact.objects.order_by("-id").values_list("id", flat=True).first() or 0
    if full or at_mark.moment is None:
        rollups_rebuild(None)
        days = DailyRollup.objects.filter(grouping=0).count()
    else:
        changed = CaseFact.objects.filter(
            Q(id__gt=id_mark.number - OVERLAP_IDS)
            | Q(updated_at__gte=at_mark.moment - OVERLAP_TIME)
        )
        touched = set(
            changed.annotate(d=local_day()).values_list("d", flat=True).distinct().order_by()
        )
        rollups_rebuild(touched)
        days = len(touched)
    id_mark.number = max(id_mark.number, top)
    id_mark.save()
    at_mark.moment = started
    at_mark.save()
    return days


def rollups_built() -> bool:
    """Whether the roll-ups have been built at least once (then KPIs read them)."""
    return RefreshMark.objects.filter(key="rollup.fact_at", moment__isnull=False).exists()


def grouping_of(filters: KpiFilters, extra: str = "") -> int:
    grouping = BITS[extra] if extra else 0
    if filters.department_id is not None:
        grouping |= BITS["department_id"]
    if filters.service_type_id is not None:
        grouping |= BITS["service_type_id"]
    if filters.channel:
        grouping |= BITS["channel"]
    if filters.area:
        grouping |= BITS["area"]
    return grouping


def rollups_for(filters: KpiFilters, extra: str = "") -> QuerySet[DailyRollup]:
    """The roll-up rows that answer `filters` (and a breakdown by dimension `extra`)."""
    qs = DailyRollup.objects.filter(grouping=grouping_of(filters, extra))
    if filters.date_from is not None:
        qs = qs.filter(day__gte=filters.date_from)
    if filters.date_to is not None:
        qs = qs.filter(day__lte=filters.date_to)
    if filters.department_id is not None:
        qs = qs.filter(department_id=filters.department_id)
    if filters.service_type_id is not None:
        qs = qs.filter(service_type_id=filters.service_type_id)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.area:
        qs = qs.filter(area=filters.area)
    return qs


def bucket_percentile(cumulative: list[int], count: int, p: float) -> float | None:
    """Hours at percentile `p` from cumulative bucket counts (see the module docstring)."""
    if not count:
        return None
    rank = max(1, math.ceil(p * count))
    for k, below in enumerate(cumulative):
        if below >= rank:
            seconds = (
                ROLLUP_EDGES[0] / 2 if k == 0 else math.sqrt(ROLLUP_EDGES[k - 1] * ROLLUP_EDGES[k])
            )
            return round(seconds / 3600, 2)
    return round(ROLLUP_EDGES[-1] / 3600, 2)


def kpis_of_totals(t: dict[str, Any], open_days: list[tuple[dt.date, int]]) -> dict[str, Any]:
    """The fact KPIs from summed roll-up columns and the open requests per opening day."""
    t = {c: t.get(c) or 0 for c in SUM_COLUMNS}
    ack = [t[c] for c in ACK_COLUMNS]
    res = [t[c] for c in RESOLVE_COLUMNS]
    percentiles = {
        "time_to_acknowledge_p50_hours": bucket_percentile(ack, t["ack_count"], 0.5),
        "time_to_acknowledge_p90_hours": bucket_percentile(ack, t["ack_count"], 0.9),
        "time_to_resolve_p50_hours": bucket_percentile(res, t["resolve_count"], 0.5),
        "time_to_resolve_p90_hours": bucket_percentile(res, t["resolve_count"], 0.9),
    }
    return kpis_of_counts(t, open_days, percentiles)


def open_by_day(qs: QuerySet[DailyRollup]) -> list[tuple[dt.date, int]]:
    rows = qs.filter(open__gt=0).values("day").annotate(n=Sum("open")).order_by()
    return [(r["day"], r["n"]) for r in rows]


def rollup_kpis(filters: KpiFilters) -> dict[str, Any]:
    """Every fact KPI for `filters` from the roll-ups: two queries, one row per day each."""
    qs = rollups_for(filters)
    totals = qs.aggregate(**{c: Sum(c) for c in SUM_COLUMNS})
    return kpis_of_totals(totals, open_by_day(qs))


def rollup_volume(filters: KpiFilters) -> int:
    """Requests opened under `filters`, from the roll-ups (one row per day)."""
    total = rollups_for(filters).aggregate(n=Sum("volume"))["n"]
    return int(total or 0)
