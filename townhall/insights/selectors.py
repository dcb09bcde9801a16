"""What the console's dashboards read: figures over `CaseFact`, limited to what one member
of staff may see (their departments; council administrators see every department).

Each figure on the dashboard has a key in FIGURES, and `figure_facts(scope, filters, key)`
returns exactly the facts it counts, so a drill-down list always adds up to the figure.
Facts carry no personal data; the hot-spot map gets cells (counts per grid square), never
a point or an address.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
)
from django.db.models.functions import Coalesce, Floor, TruncDate, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from townhall.cases.lifecycle import OPEN_STATUSES
from townhall.cases.models import reference_for
from townhall.catalog.models import Department, ServiceType
from townhall.insights.kpis import (
    KPI_KEYS,
    SIGNAL_KEYS,
    KpiFilters,
    kpi_facts,
    kpis_compute,
    kpis_from_facts,
    period_q,
)
from townhall.insights.models import CaseFact
from townhall.people.models import Channel

# Channels where the resident served themself (digital share); phone, counter and staff
# entries are not.
DIGITAL_CHANNELS = ("web", "assistant", "email", "sms", "social", "open311")
# Grid square of the hot-spot map, in degrees (about 550 m north-south).
CELL_DEG = 0.005
# More days than this and the volume chart counts by week.
DAILY_UP_TO_DAYS = 92
BREAKDOWN_FIELDS = {
    "department": ("department_id", "department_name"),
    "service": ("service_type_id", "service_name"),
    "channel": ("channel", "channel"),
    "area": ("area", "area"),
}


@dataclass(frozen=True)
class Scope:
    """The departments whose facts someone may see: None means every department."""

    department_ids: frozenset[int] | None

    def allows(self, department_id: int | None) -> bool:
        return self.department_ids is None or department_id in self.department_ids


def _figure_q(key: str, now: dt.datetime) -> Q:
    # As docs/kpis.md defines them: SLA compliance is judged on closure against the due
    # date, the digital share among requests whose channel is known.
    judged = Q(closed_at__isnull=False, due_at__isnull=False)
    return {
        "volume": Q(),
        "open": Q(status__in=sorted(OPEN_STATUSES)),
        "resolved": Q(resolved_at__isnull=False) | Q(closed_at__isnull=False),
        "on_time": judged & Q(closed_at__lte=F("due_at")),
        "late": judged & Q(closed_at__gt=F("due_at")),
        "digital": Q(channel__in=DIGITAL_CHANNELS),
        "known_channel": ~Q(channel__in=("", "other")),
    }[key]


FIGURES = ("volume", "open", "resolved", "on_time", "late", "digital")
COUNTED = (*FIGURES, "known_channel")


def facts_in(scope: Scope, filters: KpiFilters) -> QuerySet[CaseFact]:
    """The facts `scope` may see that match `filters` (opened within the period)."""
    qs = CaseFact.objects.all()
    if scope.department_ids is not None:
        qs = qs.filter(department_id__in=sorted(scope.department_ids))
    # Local days as half-open ranges of moments (the index on opened_at serves them).
    qs = qs.filter(period_q(filters))
    if filters.department_id:
        qs = qs.filter(department_id=filters.department_id)
    if filters.service_type_id:
        qs = qs.filter(service_type_id=filters.service_type_id)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.area:
        qs = qs.filter(area=filters.area)
    return qs


def cell_q(cell: tuple[int, int]) -> Q:
    """The facts inside one grid square of the hot-spot map."""
    i, j = cell
    return Q(
        lat__gte=i * CELL_DEG,
        lat__lt=(i + 1) * CELL_DEG,
        long__gte=j * CELL_DEG,
        long__lt=(j + 1) * CELL_DEG,
    )


# The KPIs of docs/kpis.md measured over facts (the others come from journey signals).
MEASURE_KEYS = tuple(k for k in KPI_KEYS if k not in SIGNAL_KEYS)
DRILL_KEYS = (*FIGURES, *(k for k in MEASURE_KEYS if k not in FIGURES))


def dashboard_measures(scope: Scope, filters: KpiFilters) -> list[dict[str, Any]]:
    """Every KPI of docs/kpis.md (`insights.kpis`): [{"key", "value", "drill"}]. Council-wide
    readers get `kpis_compute` (roll-ups where they hold the filters, and the journey-signal
    KPIs); others the same definitions exactly over their departments' facts (the signals
    know no department, so those KPIs are left out)."""
    if scope.department_ids is None:
        values = kpis_compute(filters)
    else:
        values = kpis_from_facts(facts_in(scope, filters))
    return [
        {"key": key, "value": values[key], "drill": key in MEASURE_KEYS}
        for key in KPI_KEYS
        if key in values
    ]


def figure_facts(
    scope: Scope, filters: KpiFilters, key: str, *, cell: tuple[int, int] | None = None
) -> QuerySet[CaseFact]:
    """The facts behind figure `key` (one of DRILL_KEYS): the drill-down. For a KPI of
    docs/kpis.md, the facts it is measured over (`insights.kpis.kpi_facts`)."""
    if key in FIGURES:
        qs = facts_in(scope, filters).filter(_figure_q(key, timezone.now()))
    else:
        qs = kpi_facts(filters, key)
        if scope.department_ids is not None:
            qs = qs.filter(department_id__in=sorted(scope.department_ids))
    if cell is not None:
        qs = qs.filter(cell_q(cell))
    return qs


def _counts(qs: QuerySet[CaseFact], now: dt.datetime) -> dict[str, Any]:
    return qs.aggregate(**{key: Count("pk", filter=_figure_q(key, now)) for key in COUNTED})


class MedianDuration(Aggregate):
    """PostgreSQL's exact median of an interval (`percentile_cont` over the group)."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _median_days_by(qs: QuerySet[CaseFact], field: str | None) -> dict[Any, float]:
    """Median days from opening to resolution of the resolved facts, per `field` value
    (or under the key None for all): in SQL on PostgreSQL, else over the rows in Python."""
    resolved = qs.annotate(done=Coalesce("resolved_at", "closed_at")).filter(done__isnull=False)
    if connection.vendor == "postgresql":
        spent = ExpressionWrapper(F("done") - F("opened_at"), output_field=DurationField())
        if field is None:
            value = resolved.aggregate(m=MedianDuration(spent))["m"]
            return {} if value is None else {None: value.total_seconds() / 86400}
        return {
            row[field]: row["m"].total_seconds() / 86400
            for row in resolved.values(field).annotate(m=MedianDuration(spent)).order_by()
        }
    spread: dict[Any, list[float]] = defaultdict(list)
    columns = [field] if field else []
    for *key, opened, done in resolved.values_list(*columns, "opened_at", "done").iterator(
        chunk_size=5000
    ):
        spread[key[0] if key else None].append((done - opened).total_seconds() / 86400)
    return {k: statistics.median(v) for k, v in spread.items()}


def _with_rates(row: dict[str, Any], median_days: float | None) -> dict[str, Any]:
    judged = row["on_time"] + row["late"]
    row["sla_compliance"] = round(row["on_time"] / judged, 4) if judged else None
    known = row.pop("known_channel")
    row["digital_share"] = round(row["digital"] / known, 4) if known else None
    row["median_days_to_resolve"] = None if median_days is None else round(median_days, 2)
    return row


def dashboard_tiles(scope: Scope, filters: KpiFilters) -> dict[str, Any]:
    """The headline figures: counts (FIGURES), SLA compliance, digital share, median days."""
    qs = facts_in(scope, filters)
    row = _counts(qs, timezone.now())
    return _with_rates(row, _median_days_by(qs, None).get(None))


def _labels(by: str, keys: Iterable[Any]) -> dict[Any, str]:
    keys = [k for k in keys if k is not None]
    if by == "department":
        return dict(Department.objects.filter(pk__in=keys).values_list("pk", "name"))
    if by == "service":
        return dict(ServiceType.objects.filter(pk__in=keys).values_list("pk", "name"))
    return {}


def dashboard_breakdown(scope: Scope, filters: KpiFilters, by: str) -> list[dict[str, Any]]:
    """One row per department, service, channel or area: {"key", "label", figures...},
    largest first. `key` is what the drill-down filter takes ("" for none recorded)."""
    field, name_field = BREAKDOWN_FIELDS[by]
    now = timezone.now()
    qs = facts_in(scope, filters)
    grouped = (
        qs.values(field)
        .annotate(**{key: Count("pk", filter=_figure_q(key, now)) for key in COUNTED})
        .order_by(field)
    )
    medians = _median_days_by(qs, field)
    rows = list(grouped)
    labels = _labels(by, (row[field] for row in rows))
    if by in ("department", "service") and len(labels) < len(rows):
        # Imported rows not mapped to the catalogue: the name their source used.
        names = dict(qs.values_list(field, name_field).distinct())
        labels = {**{k: v for k, v in names.items() if v}, **labels}
    out = []
    for row in rows:
        key = row.pop(field)
        row = _with_rates(row, medians.get(key))
        out.append({"key": "" if key is None else key, "label": labels.get(key, key), **row})
    out.sort(key=lambda r: (-r["volume"], str(r["label"] or "")))
    return out


def series_interval(filters: KpiFilters) -> str:
    """ "day" for periods up to DAILY_UP_TO_DAYS (or an open-ended one), else "week"."""
    if filters.date_from and filters.date_to:
        if (filters.date_to - filters.date_from).days > DAILY_UP_TO_DAYS:
            return "week"
    elif filters.date_from is None:
        return "week"
    return "day"


def dashboard_series(scope: Scope, filters: KpiFilters) -> list[dict[str, Any]]:
    """Requests opened per day (or week): [{"start", "end", "volume"}], oldest first.
    Each bucket's drill-down is the same filters with the period narrowed to start..end."""
    interval = series_interval(filters)
    trunc = TruncDate("opened_at") if interval == "day" else TruncWeek("opened_at")
    rows = (
        facts_in(scope, filters)
        .annotate(bucket=trunc)
        .values("bucket")
        .annotate(volume=Count("pk"))
        .order_by("bucket")
    )
    out = []
    for row in rows:
        start = row["bucket"]
        if isinstance(start, dt.datetime):
            start = timezone.localtime(start).date() if timezone.is_aware(start) else start.date()
        end = start if interval == "day" else start + dt.timedelta(days=6)
        out.append({"start": start, "end": end, "volume": row["volume"]})
    return out


def dashboard_hotspots(
    scope: Scope, filters: KpiFilters, *, limit: int = 300
) -> list[dict[str, Any]]:
    """The busiest grid squares: [{"cell": "i:j", "lat", "long" (its centre), "volume"}]."""
    rows = (
        facts_in(scope, filters)
        .filter(lat__isnull=False, long__isnull=False)
        .annotate(i=Floor(F("lat") / CELL_DEG), j=Floor(F("long") / CELL_DEG))
        .values("i", "j")
        .annotate(volume=Count("pk"))
        .order_by("-volume", "i", "j")[:limit]
    )
    return [
        {
            "cell": f"{int(r['i'])}:{int(r['j'])}",
            "lat": round((int(r["i"]) + 0.5) * CELL_DEG, 5),
            "long": round((int(r["j"]) + 0.5) * CELL_DEG, 5),
            "volume": r["volume"],
        }
        for r in rows
    ]


def filter_choices(scope: Scope) -> dict[str, list[tuple[Any, str]]]:
    """What the filters offer: departments and services in scope, channels, areas seen."""
    departments = Department.objects.order_by("name")
    services = ServiceType.objects.order_by("name")
    facts = CaseFact.objects.all()
    if scope.department_ids is not None:
        ids = sorted(scope.department_ids)
        departments = departments.filter(pk__in=ids)
        services = services.filter(department_id__in=ids)
        facts = facts.filter(department_id__in=ids)
    areas = facts.exclude(area="").values_list("area", flat=True).distinct().order_by("area")
    return {
        "department": list(departments.values_list("pk", "name")),
        "service": list(services.values_list("pk", "name")),
        "area": [(a, a) for a in areas[:500]],
    }


DRILLDOWN_COLUMNS = (
    "source",
    "reference",
    "case_id",
    "external_id",
    "system",
    "service_label",
    "department_label",
    "channel",
    "area",
    "status",
    "opened_at",
    "resolved_at",
    "due_at",
)


def drilldown_rows(qs: QuerySet[CaseFact]) -> Iterator[dict[str, Any]]:
    """The drill-down's rows, newest first, as plain dicts (DRILLDOWN_COLUMNS): streamed."""
    named = qs.annotate(
        service_label=Coalesce(F("service_type__name"), F("service_name")),
        department_label=Coalesce(F("department__name"), F("department_name")),
    )
    stored = [c for c in DRILLDOWN_COLUMNS if c != "reference"]
    for row in named.order_by("-opened_at", "-pk").values(*stored).iterator(chunk_size=2000):
        row["reference"] = (
            reference_for(
                case_id=row["case_id"], opened_at_year=timezone.localtime(row["opened_at"]).year
            )
            if row["case_id"]
            else ""
        )
        yield row


def channel_choices() -> list[tuple[str, str]]:
    """Channels as the filters offer them (with "other", for imported rows)."""
    return [(str(value), str(label)) for value, label in Channel.choices] + [
        ("other", str(_("Other")))
    ]
