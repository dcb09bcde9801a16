"""Copy live cases into `CaseFact`, incrementally and idempotently.

Which cases changed since the last run comes from ids that only grow (case events, time
entries, journey signals) and from survey answers by time; each is re-read with an
overlap, because a row with a lower id can commit after one with a higher id. A case's
fact is rebuilt whole from the case and its related rows in a handful of batched queries
per `BATCH` cases (no query per case), so running twice writes the same rows.

No personal data is copied: no names, contacts or text; positions are rounded to about
100 m and the area is the postcode sector of the case's address (docs/kpis.md).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from townhall.cases.models import Case, CaseEvent, CaseEventKind, TimeEntry
from townhall.experience.models import JourneySignal, SignalKind, Survey
from townhall.insights.models import CaseFact, FactSource, RefreshMark
from townhall.places.models import Place

BATCH = 1000
# Re-read this many ids below the last one seen: rows committed late are not missed.
ID_OVERLAP = 1000
# ...and survey answers this long before the last run.
TIME_OVERLAP = dt.timedelta(hours=1)
POSITION_DECIMALS = 3  # about 100 m
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class FactsRefreshResult:
    cases_seen: int
    facts_created: int
    facts_updated: int


def area_of(postcode: str) -> str:
    """The postcode sector of `postcode`: "SW1A 1AA" -> "SW1A 1", "02139-4307" -> "02139"."""
    code = " ".join(postcode.upper().split())
    if not code:
        return ""
    if " " in code:  # UK style: outward code and the inward code's first digit
        outward, inward = code.split(" ", 1)
        return f"{outward} {inward[:1]}"
    return code.split("-", 1)[0][:5] if code[:1].isdigit() else code


def _mark(key: str) -> RefreshMark:
    mark, _ = RefreshMark.objects.get_or_create(key=key)
    return mark


def _changed_since(mark_key: str, queryset: Any, column: str = "id") -> tuple[set[int], int]:
    """Case ids of rows with `column` above the mark less the overlap; the new high mark."""
    mark = _mark(mark_key)
    start = max(0, mark.number - ID_OVERLAP)
    rows = queryset.filter(**{f"{column}__gt": start})
    top = rows.aggregate(top=Max(column))["top"] or mark.number
    ids = set(rows.exclude(case_id=None).values_list("case_id", flat=True).distinct())
    return ids, top


def changed_case_ids() -> tuple[set[int], dict[str, Any]]:
    """Ids of live cases whose fact may be stale, and the marks to save once written."""
    ids: set[int] = set()
    marks: dict[str, Any] = {}
    sources: list[tuple[str, Any]] = [
        ("facts.event", CaseEvent.objects.all()),
        ("facts.time", TimeEntry.objects.all()),
        ("facts.signal", JourneySignal.objects.filter(kind=SignalKind.REPEAT_CONTACT)),
    ]
    for key, queryset in sources:
        found, top = _changed_since(key, queryset)
        ids |= found
        marks[key] = top
    survey_mark = _mark("facts.survey")
    since = (survey_mark.moment or EPOCH) - TIME_OVERLAP
    ids |= set(Survey.objects.filter(answered_at__gte=since).values_list("case_id", flat=True))
    marks["facts.survey"] = timezone.now()
    return ids, marks


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _areas(address_ids: Iterable[str]) -> dict[str, str]:
    wanted = {a for a in address_ids if a}
    if not wanted:
        return {}
    return {
        pid: area_of(postcode)
        for pid, postcode in Place.objects.filter(property_id__in=wanted).values_list(
            "property_id", "postcode"
        )
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, POSITION_DECIMALS)


def facts_build(case_ids: list[int]) -> list[CaseFact]:
    """Unsaved facts for the cases `case_ids` (one batch: seven queries, whatever its size)."""
    cases = list(
        Case.objects.filter(pk__in=case_ids).values(
            "id",
            "service_type_id",
            "service_type__name",
            "service_type__personal",
            "department_id",
            "department__name",
            "channel",
            "status",
            "opened_at",
            "acknowledged_at",
            "resolved_at",
            "closed_at",
            "due_at",
            "lat",
            "long",
            "address_id",
        )
    )
    events: dict[int, dict[str, Any]] = defaultdict(dict)
    for row in (
        CaseEvent.objects.filter(
            case_id__in=case_ids,
            kind__in=[
                CaseEventKind.REOPENED,
                CaseEventKind.TRANSFERRED,
                CaseEventKind.ACKNOWLEDGED,
            ],
        )
        .values("case_id", "kind")
        .annotate(n=Count("id"), first=Min("at"))
    ):
        events[row["case_id"]][row["kind"]] = row
    minutes = dict(
        TimeEntry.objects.filter(case_id__in=case_ids)
        .values("case_id")
        .annotate(m=Sum("minutes"))
        .values_list("case_id", "m")
    )
    merged = dict(
        Case.objects.filter(merged_into_id__in=case_ids)
        .values("merged_into_id")
        .annotate(n=Count("id"))
        .values_list("merged_into_id", "n")
    )
    repeats = dict(
        JourneySignal.objects.filter(case_id__in=case_ids, kind=SignalKind.REPEAT_CONTACT)
        .values("case_id")
        .annotate(n=Count("id"))
        .values_list("case_id", "n")
    )
    surveys = {
        row[0]: row[1:]
        for row in Survey.objects.filter(case_id__in=case_ids).values_list("case_id", "csat", "nps")
    }
    areas = _areas(c["address_id"] for c in cases)
    now = timezone.now()
    facts = []
    for c in cases:
        kinds = events.get(c["id"], {})
        acknowledged_at = c["acknowledged_at"]
        if acknowledged_at is None and CaseEventKind.ACKNOWLEDGED in kinds:
            acknowledged_at = kinds[CaseEventKind.ACKNOWLEDGED]["first"]
        csat, nps = surveys.get(c["id"], (None, None))
        facts.append(
            CaseFact(
                source=FactSource.LIVE,
                case_id=c["id"],
                service_type_id=c["service_type_id"],
                service_name=c["service_type__name"] or "",
                department_id=c["department_id"],
                department_name=c["department__name"] or "",
                channel=c["channel"],
                area=areas.get(c["address_id"], ""),
                status=c["status"],
                personal=bool(c["service_type__personal"]),
                opened_at=c["opened_at"],
                acknowledged_at=acknowledged_at,
                resolved_at=c["resolved_at"],
                closed_at=c["closed_at"],
                due_at=c["due_at"],
                reopen_count=kinds.get(CaseEventKind.REOPENED, {}).get("n", 0),
                transfer_count=kinds.get(CaseEventKind.TRANSFERRED, {}).get("n", 0),
                contact_count=1 + merged.get(c["id"], 0) + repeats.get(c["id"], 0),
                staff_minutes=minutes.get(c["id"]) or 0,
                csat=csat,
                nps=nps,
                lat=_rounded(c["lat"]),
                long=_rounded(c["long"]),
                updated_at=now,
            )
        )
    return facts


FACT_FIELDS = [
    f.name
    for f in CaseFact._meta.concrete_fields
    if f.name not in {"id", "case", "source", "system", "external_id", "source_on_time"}
]
_COMPARED = [f for f in FACT_FIELDS if f != "updated_at"]


def facts_write(case_ids: list[int]) -> tuple[int, int]:
    """Create or update the facts of `case_ids`; return (created, updated). Facts that did
    not change are left alone (their `updated_at` too), so the roll-ups see only changes."""
    built = facts_build(case_ids)
    existing = {f.case_id: f for f in CaseFact.objects.filter(case_id__in=case_ids)}
    create, update = [], []
    for fact in built:
        old = existing.get(fact.case_id)
        if old is None:
            create.append(fact)
        elif any(getattr(old, n) != getattr(fact, n) for n in _COMPARED):
            fact.pk = old.pk
            update.append(fact)
    with transaction.atomic():
        CaseFact.objects.bulk_create(create, batch_size=BATCH)
        CaseFact.objects.bulk_update(update, FACT_FIELDS, batch_size=BATCH)
    return len(create), len(update)


def facts_refresh(*, full: bool = False, progress: Progress | None = None) -> FactsRefreshResult:
    """Bring the live facts up to date: the changed cases (all cases if `full`)."""
    ids, marks = changed_case_ids()
    if full:
        ids = set(Case.objects.values_list("id", flat=True))
    ordered = sorted(ids)
    created = updated = 0
    for done, chunk in enumerate(_chunks(ordered, BATCH)):
        c, u = facts_write(chunk)
        created, updated = created + c, updated + u
        if progress is not None:
            progress(min((done + 1) * BATCH, len(ordered)), len(ordered))
    for key, value in marks.items():
        mark = _mark(key)
        if isinstance(value, dt.datetime):
            mark.moment = value
        else:
            mark.number = max(mark.number, value)
        mark.save()
    return FactsRefreshResult(len(ordered), created, updated)


# Two refreshes at once (a slow scheduled run and the command) would both create the same
# facts and both rebuild the same days: the second one waits for nothing, it skips.
REFRESH_LOCK = 0x7468_6B70  # "thkp": an advisory lock key of our own (PostgreSQL)


@contextmanager
def refresh_lock() -> Iterator[bool]:
    """Hold the refresh lock while the block runs; yield False if another process holds
    it (PostgreSQL; elsewhere, a single process, always True)."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [REFRESH_LOCK])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [REFRESH_LOCK])


def insights_refresh(
    *, full: bool = False, progress: Progress | None = None
) -> tuple[FactsRefreshResult, int] | None:
    """Refresh the live facts, then the roll-ups of the days they touched: what the
    scheduled task, `townhall insights refresh` and the demo run. Return the facts'
    result and the number of roll-up days rebuilt, or None if another refresh is running."""
    from townhall.insights.rollups import rollups_refresh

    with refresh_lock() as held:
        if not held:
            return None
        result = facts_refresh(full=full, progress=progress)
        return result, rollups_refresh(full=full)
