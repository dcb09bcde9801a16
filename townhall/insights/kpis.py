"""Every KPI, one function each, over `CaseFact` (docs/kpis.md defines them).

The public interface other modules (console dashboards, exports, the CLI) use:

- `KpiFilters`: period, department, service, channel, area (all optional);
- `kpis_compute(filters) -> dict[str, float | int | None]`: every KPI by its documented
  key (`volume`, `digital_share`, `sla_compliance`, ...);
- `kpi_breakdown(filters, by) -> list[dict]`: the same KPIs per department, service,
  channel, area or day (`by` one of BREAKDOWNS);
- `kpi_facts(filters, key)`: the facts behind one KPI's figure (the drill-down).

`kpi_<key>(queryset)` are the definitions, exact, over any fact queryset. `kpis_compute`
and `kpi_breakdown` read the daily roll-ups (insights.rollups) once they have been built,
which give the same figures except the percentiles (within 19 %, docs/kpis.md), and the
facts otherwise. A KPI with nothing to measure is None, never 0/0.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from townhall.cases.lifecycle import OPEN_STATUSES, CaseStatus
from townhall.insights.models import CaseFact, FactSource
from townhall.people.models import Channel

BREAKDOWNS = ("department", "service", "channel", "area", "day", "week", "month")

# Self-service and written channels; phone, counter and staff-entered are not digital.
DIGITAL_CHANNELS = frozenset(
    {Channel.WEB, Channel.ASSISTANT, Channel.EMAIL, Channel.SMS, Channel.SOCIAL, Channel.OPEN311}
)
UNKNOWN_CHANNELS = ("", "other")
FINISHED_OK = (CaseStatus.RESOLVED, CaseStatus.CLOSED)

KPI_KEYS = (
    "volume",
    "digital_share",
    "first_contact_resolution",
    "sla_compliance",
    "time_to_acknowledge_p50_hours",
    "time_to_acknowledge_p90_hours",
    "time_to_resolve_p50_hours",
    "time_to_resolve_p90_hours",
    "backlog",
    "backlog_age_avg_days",
    "backlog_age_max_days",
    "staff_hours_per_request",
    "csat",
    "nps",
    "reopen_rate",
    "abandoned_forms",
    "chats_abandoned",
    "abandonment_rate",
    "assistant_containment",
)
# Measured from journey signals and the assistant, not from the facts (docs/kpis.md).
SIGNAL_KEYS = ("abandoned_forms", "chats_abandoned", "abandonment_rate", "assistant_containment")


@dataclass(frozen=True)
class KpiFilters:
    """Which requests count: opened in [date_from, date_to] and matching every filter set."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    department_id: int | None = None
    service_type_id: int | None = None
    channel: str = ""
    area: str = ""

    @property
    def has_case_filters(self) -> bool:
        """Filters that journey signals and assistant conversations cannot follow."""
        return bool(self.department_id or self.service_type_id or self.area)


def local_midnight(day: dt.date) -> dt.datetime:
    """The moment `day` starts in the council's time zone (days are local days)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time()), timezone.get_default_timezone())


def local_day() -> Any:
    """TruncDate of `opened_at` in the council's time zone: the day a fact belongs to."""
    return TruncDate("opened_at", tzinfo=timezone.get_default_timezone())


def today() -> dt.date:
    return timezone.localdate(timezone.now(), timezone.get_default_timezone())


def period_q(filters: KpiFilters, field: str = "opened_at") -> Q:
    q = Q()
    if filters.date_from is not None:
        q &= Q(**{f"{field}__gte": local_midnight(filters.date_from)})
    if filters.date_to is not None:
        q &= Q(**{f"{field}__lt": local_midnight(filters.date_to + dt.timedelta(days=1))})
    return q


def facts_for(filters: KpiFilters) -> QuerySet[CaseFact]:
    """The facts `filters` select (every source, personal services included)."""
    qs = CaseFact.objects.filter(period_q(filters))
    if filters.department_id is not None:
        qs = qs.filter(department_id=filters.department_id)
    if filters.service_type_id is not None:
        qs = qs.filter(service_type_id=filters.service_type_id)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.area:
        qs = qs.filter(area=filters.area)
    return qs


def share(part: int, whole: int, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole else None


# What each KPI counts over (its denominator): also the drill-down's facts.
FINISHED_Q = Q(status__in=FINISHED_OK)
FIRST_CONTACT_Q = FINISHED_Q & Q(reopen_count=0, transfer_count=0, contact_count__lte=1)
CLOSED_WITH_DUE_Q = Q(closed_at__isnull=False, due_at__isnull=False)
ON_TIME_Q = CLOSED_WITH_DUE_Q & Q(closed_at__lte=F("due_at"))
ACK_Q = Q(acknowledged_at__isnull=False, acknowledged_at__gte=F("opened_at"))
RESOLVE_END = Coalesce("resolved_at", "closed_at")
OPEN_Q = Q(status__in=sorted(OPEN_STATUSES))
RESOLVED_ONCE_Q = Q(resolved_at__isnull=False) | Q(closed_at__isnull=False) | Q(reopen_count__gt=0)
NPS_PROMOTER, NPS_DETRACTOR = 9, 6  # 9-10 promote, 0-6 detract


def resolve_q() -> Q:
    return Q(resolve_end__isnull=False, resolve_end__gte=F("opened_at"))


def kpi_volume(qs: QuerySet[CaseFact]) -> int:
    """Requests opened (every status, every source)."""
    return qs.count()


def kpi_digital_share(qs: QuerySet[CaseFact]) -> float | None:
    """Share of requests with a known channel that came through a digital one."""
    c = qs.exclude(channel__in=UNKNOWN_CHANNELS).aggregate(
        n=Count("id"), d=Count("id", filter=Q(channel__in=sorted(DIGITAL_CHANNELS)))
    )
    return share(c["d"], c["n"])


def kpi_first_contact_resolution(qs: QuerySet[CaseFact]) -> float | None:
    """Share of resolved or closed requests never reopened, transferred or re-contacted."""
    c = qs.aggregate(n=Count("id", filter=FINISHED_Q), ok=Count("id", filter=FIRST_CONTACT_Q))
    return share(c["ok"], c["n"])


def kpi_sla_compliance(qs: QuerySet[CaseFact]) -> float | None:
    """Among facts with closed_at and due_at set, the share with closed_at <= due_at."""
    c = qs.aggregate(n=Count("id", filter=CLOSED_WITH_DUE_Q), ok=Count("id", filter=ON_TIME_Q))
    return share(c["ok"], c["n"])


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile: the ceil(p x n)-th smallest value (an observed value)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p * len(ordered))) - 1]


def _hours(pairs: Any) -> list[float]:
    return [(end - start).total_seconds() / 3600 for start, end in pairs]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def ack_hours(qs: QuerySet[CaseFact]) -> list[float]:
    return _hours(qs.filter(ACK_Q).values_list("opened_at", "acknowledged_at"))


def resolve_hours(qs: QuerySet[CaseFact]) -> list[float]:
    rows = qs.annotate(resolve_end=RESOLVE_END).filter(resolve_q())
    return _hours(rows.values_list("opened_at", "resolve_end"))


def kpi_time_to_acknowledge_p50_hours(qs: QuerySet[CaseFact]) -> float | None:
    """Median hours from opening to acknowledgement, over acknowledged requests."""
    return _rounded(percentile(ack_hours(qs), 0.5))


def kpi_time_to_acknowledge_p90_hours(qs: QuerySet[CaseFact]) -> float | None:
    """90th percentile of the hours from opening to acknowledgement."""
    return _rounded(percentile(ack_hours(qs), 0.9))


def kpi_time_to_resolve_p50_hours(qs: QuerySet[CaseFact]) -> float | None:
    """Median hours from opening to resolution (closure if never marked resolved)."""
    return _rounded(percentile(resolve_hours(qs), 0.5))


def kpi_time_to_resolve_p90_hours(qs: QuerySet[CaseFact]) -> float | None:
    """90th percentile of the hours from opening to resolution."""
    return _rounded(percentile(resolve_hours(qs), 0.9))


def kpi_backlog(qs: QuerySet[CaseFact]) -> int:
    """Requests still open now (new, acknowledged, in progress, awaiting, reopened)."""
    return qs.filter(OPEN_Q).count()


def _open_days(qs: QuerySet[CaseFact]) -> list[tuple[dt.date, int]]:
    rows = qs.filter(OPEN_Q).annotate(day=local_day()).values("day").annotate(n=Count("id"))
    return [(r["day"], r["n"]) for r in rows]


def backlog_age_avg(days: list[tuple[dt.date, int]], now_day: dt.date) -> float | None:
    total = sum(n for _, n in days)
    if not total:
        return None
    return round(sum((now_day - d).days * n for d, n in days) / total, 1)


def backlog_age_max(days: list[tuple[dt.date, int]], now_day: dt.date) -> int | None:
    opened = [d for d, n in days if n]
    return (now_day - min(opened)).days if opened else None


def kpi_backlog_age_avg_days(qs: QuerySet[CaseFact]) -> float | None:
    """Mean age of the open requests, in whole local days since the day each was opened."""
    return backlog_age_avg(_open_days(qs), today())


def kpi_backlog_age_max_days(qs: QuerySet[CaseFact]) -> int | None:
    """Age in days of the oldest open request."""
    return backlog_age_max(_open_days(qs), today())


def kpi_staff_hours_per_request(qs: QuerySet[CaseFact]) -> float | None:
    """Hours of time tracked per request handled here (imported requests have none)."""
    c = qs.filter(source=FactSource.LIVE).aggregate(n=Count("id"), m=Sum("staff_minutes"))
    return round(c["m"] / 60 / c["n"], 2) if c["n"] else None


def kpi_csat(qs: QuerySet[CaseFact]) -> float | None:
    """Mean satisfaction score (1-5) over answered surveys."""
    c = qs.filter(csat__isnull=False).aggregate(n=Count("id"), s=Sum("csat"))
    return round(c["s"] / c["n"], 2) if c["n"] else None


def nps_of(promoters: int, detractors: int, answers: int) -> float | None:
    return round(100 * (promoters - detractors) / answers, 1) if answers else None


def kpi_nps(qs: QuerySet[CaseFact]) -> float | None:
    """Net promoter score: % answering 9-10 minus % answering 0-6 (-100..100)."""
    c = qs.filter(nps__isnull=False).aggregate(
        n=Count("id"),
        p=Count("id", filter=Q(nps__gte=NPS_PROMOTER)),
        d=Count("id", filter=Q(nps__lte=NPS_DETRACTOR)),
    )
    return nps_of(c["p"], c["d"], c["n"])


def kpi_reopen_rate(qs: QuerySet[CaseFact]) -> float | None:
    """Share of requests resolved at least once that were reopened."""
    c = qs.aggregate(
        n=Count("id", filter=RESOLVED_ONCE_Q), r=Count("id", filter=Q(reopen_count__gt=0))
    )
    return share(c["r"], c["n"])


FACT_KPIS = {
    "volume": kpi_volume,
    "digital_share": kpi_digital_share,
    "first_contact_resolution": kpi_first_contact_resolution,
    "sla_compliance": kpi_sla_compliance,
    "time_to_acknowledge_p50_hours": kpi_time_to_acknowledge_p50_hours,
    "time_to_acknowledge_p90_hours": kpi_time_to_acknowledge_p90_hours,
    "time_to_resolve_p50_hours": kpi_time_to_resolve_p50_hours,
    "time_to_resolve_p90_hours": kpi_time_to_resolve_p90_hours,
    "backlog": kpi_backlog,
    "backlog_age_avg_days": kpi_backlog_age_avg_days,
    "backlog_age_max_days": kpi_backlog_age_max_days,
    "staff_hours_per_request": kpi_staff_hours_per_request,
    "csat": kpi_csat,
    "nps": kpi_nps,
    "reopen_rate": kpi_reopen_rate,
}

# The facts each KPI counts over (its denominator), for the drill-down.
DRILL_DOWN: dict[str, Q] = {
    "volume": Q(),
    "digital_share": ~Q(channel__in=UNKNOWN_CHANNELS),
    "first_contact_resolution": FINISHED_Q,
    "sla_compliance": CLOSED_WITH_DUE_Q,
    "time_to_acknowledge_p50_hours": ACK_Q,
    "time_to_acknowledge_p90_hours": ACK_Q,
    "backlog": OPEN_Q,
    "backlog_age_avg_days": OPEN_Q,
    "backlog_age_max_days": OPEN_Q,
    "staff_hours_per_request": Q(source=FactSource.LIVE),
    "csat": Q(csat__isnull=False),
    "nps": Q(nps__isnull=False),
    "reopen_rate": RESOLVED_ONCE_Q,
}


def fact_counts() -> dict[str, Any]:
    """The counts and sums every KPI but the percentiles is made of, as aggregates over
    facts (the roll-ups' columns; `kpis_of_counts` finishes them)."""
    live = Q(source=FactSource.LIVE)
    zero = Value(0)
    return {
        "volume": Count("id"),
        "live": Count("id", filter=live),
        "channel_known": Count("id", filter=~Q(channel__in=UNKNOWN_CHANNELS)),
        "digital": Count("id", filter=Q(channel__in=sorted(DIGITAL_CHANNELS))),
        "finished": Count("id", filter=FINISHED_Q),
        "first_contact": Count("id", filter=FIRST_CONTACT_Q),
        "closed_with_due": Count("id", filter=CLOSED_WITH_DUE_Q),
        "on_time": Count("id", filter=ON_TIME_Q),
        "open": Count("id", filter=OPEN_Q),
        "staff_minutes": Coalesce(Sum("staff_minutes"), zero),
        "live_staff_minutes": Coalesce(Sum("staff_minutes", filter=live), zero),
        "csat_count": Count("id", filter=Q(csat__isnull=False)),
        "csat_sum": Coalesce(Sum("csat"), zero),
        "nps_count": Count("id", filter=Q(nps__isnull=False)),
        "nps_promoters": Count("id", filter=Q(nps__gte=NPS_PROMOTER)),
        "nps_detractors": Count("id", filter=Q(nps__lte=NPS_DETRACTOR)),
        "resolved_once": Count("id", filter=RESOLVED_ONCE_Q),
        "reopened": Count("id", filter=Q(reopen_count__gt=0)),
        "ack_count": Count("id", filter=ACK_Q),
        "resolve_count": Count("id", filter=resolve_q()),
    }


def kpis_of_counts(
    t: dict[str, Any], open_days: list[tuple[dt.date, int]], percentiles: dict[str, Any]
) -> dict[str, Any]:
    """The fact KPIs from `fact_counts`' figures, the open requests per opening day and
    the four percentiles (exact from facts, or read off the roll-ups' buckets)."""
    now_day = today()
    return {
        "volume": t["volume"],
        "digital_share": share(t["digital"], t["channel_known"]),
        "first_contact_resolution": share(t["first_contact"], t["finished"]),
        "sla_compliance": share(t["on_time"], t["closed_with_due"]),
        **percentiles,
        "backlog": t["open"],
        "backlog_age_avg_days": backlog_age_avg(open_days, now_day),
        "backlog_age_max_days": backlog_age_max(open_days, now_day),
        "staff_hours_per_request": (
            round(t["live_staff_minutes"] / 60 / t["live"], 2) if t["live"] else None
        ),
        "csat": round(t["csat_sum"] / t["csat_count"], 2) if t["csat_count"] else None,
        "nps": nps_of(t["nps_promoters"], t["nps_detractors"], t["nps_count"]),
        "reopen_rate": share(t["reopened"], t["resolved_once"]),
    }


def kpis_from_facts(qs: QuerySet[CaseFact]) -> dict[str, Any]:
    """Every fact KPI over `qs`, exactly (no roll-ups), in four queries: the same figures
    as each `kpi_<key>(qs)` (tests/insights/test_kpis.py checks they agree)."""
    counts = qs.annotate(resolve_end=RESOLVE_END).aggregate(
        **{f"c_{name}": expr for name, expr in fact_counts().items()}
    )
    t = {name[2:]: value or 0 for name, value in counts.items()}
    ack, res = ack_hours(qs), resolve_hours(qs)
    percentiles = {
        "time_to_acknowledge_p50_hours": _rounded(percentile(ack, 0.5)),
        "time_to_acknowledge_p90_hours": _rounded(percentile(ack, 0.9)),
        "time_to_resolve_p50_hours": _rounded(percentile(res, 0.5)),
        "time_to_resolve_p90_hours": _rounded(percentile(res, 0.9)),
    }
    return kpis_of_counts(t, _open_days(qs), percentiles)


def signal_kpis(filters: KpiFilters, web_volume: int | None) -> dict[str, Any]:
    """Abandonment and containment: from journey signals and the assistant's conversations,
    which know the period and the channel but not a department, service or area."""
    from townhall.insights.signals import signal_kpis as compute

    return compute(filters, web_volume)


def rollups_answer(filters: KpiFilters, extra: str, wanted: bool | None) -> bool:
    """Whether to read the roll-ups: built (or `wanted`) and holding these filters'."""
    from townhall.insights.rollups import rollups_built, rollups_cover

    if wanted is False or not rollups_cover(filters, extra):
        return False
    return wanted or rollups_built()


def kpis_compute(filters: KpiFilters, *, use_rollups: bool | None = None) -> dict[str, Any]:
    """Return every KPI for `filters`, keyed as in docs/kpis.md.

    Read from the roll-ups once built (`use_rollups=None`; True: even if not) where they
    hold the filters (two dimensions at most), else from the facts.
    """
    use_rollups = rollups_answer(filters, "", use_rollups)
    wants_web = not filters.has_case_filters and filters.channel in ("", Channel.WEB)
    web: int | None = None
    if use_rollups:
        from townhall.insights.rollups import rollup_kpis, rollup_volume

        values = rollup_kpis(filters)
        if wants_web:
            web = rollup_volume(KpiFilters(**{**filters.__dict__, "channel": Channel.WEB}))
    else:
        qs = facts_for(filters)
        values = kpis_from_facts(qs)
        if wants_web:
            web = qs.filter(channel=Channel.WEB).count()
    merged = {**values, **signal_kpis(filters, web)}
    return {key: merged[key] for key in KPI_KEYS}


def kpi_breakdown(
    filters: KpiFilters, by: str, *, use_rollups: bool | None = None
) -> list[dict[str, Any]]:
    """Return one row per group (`by` in BREAKDOWNS): {"key", "label", **kpis}.

    Signal KPIs (abandonment, containment) are per period only: None in breakdown rows.
    """
    if by not in BREAKDOWNS:
        raise ValueError(f"cannot break down by {by!r}: one of {', '.join(BREAKDOWNS)}")
    from townhall.insights.breakdowns import DIMENSION, breakdown_facts, breakdown_rollups

    use_rollups = rollups_answer(filters, DIMENSION.get(by, ""), use_rollups)
    rows = breakdown_rollups(filters, by) if use_rollups else breakdown_facts(filters, by)
    empty = dict.fromkeys(SIGNAL_KEYS)
    return [{**row, **empty} for row in rows]


def kpi_facts(filters: KpiFilters, key: str) -> QuerySet[CaseFact]:
    """Return the facts counted by KPI `key` under `filters` (the drill-down)."""
    if key in ("time_to_resolve_p50_hours", "time_to_resolve_p90_hours"):
        return facts_for(filters).annotate(resolve_end=RESOLVE_END).filter(resolve_q())
    if key in SIGNAL_KEYS:
        raise ValueError(f"{key} is measured from journey signals, not facts")
    if key not in DRILL_DOWN:
        raise ValueError(f"no such KPI: {key!r}")
    return facts_for(filters).filter(DRILL_DOWN[key])
