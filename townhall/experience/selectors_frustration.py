"""Reads for the frustration index: the signal values of open cases and of a resident's
journey (in batches: a handful of queries per few hundred cases, never one per case),
and what the console shows (the supervisors' flag queue, a case's breakdown).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Case as DbCase
from django.db.models import Count, F, FloatField, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from townhall.cases.access import Action, access_can, access_department_ids
from townhall.cases.lifecycle import OPEN_STATUSES, PAUSED_STATUSES
from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.experience.frustration import Weights, weights_load
from townhall.experience.models import (
    CaseFrustration,
    FlagKind,
    JourneySignal,
    SignalKind,
    SupervisorFlag,
)
from townhall.intake.models import InboundMessage, Outcome
from townhall.people.models import Citizen

# Case-history events that are signals, and the signal each one is.
EVENT_SIGNALS = {CaseEventKind.REOPENED: "reopened", CaseEventKind.TRANSFERRED: "transferred"}
# Recorded signals, by kind, and how they add up: a count, or the summed value (tone).
RECORDED = {
    SignalKind.REPEAT_CONTACT: "repeat_contact",
    SignalKind.BOUNCED_HANDOFF: "bounced_handoff",
    SignalKind.NEGATIVE_TONE: "negative_tone",
    SignalKind.ABANDONED_FORM: "abandoned_form",
    SignalKind.ASSISTANT_FALLBACK: "assistant_fallback",
    SignalKind.CHAT_ABANDONED: "chat_abandoned",
}


def promised_at(case: Case) -> datetime | None:
    """When the resident was told it would be done: the end of the expected date in the
    council's time, else the SLA due time; None while it waits on the resident."""
    if case.status in PAUSED_STATUSES:
        return None
    if case.expected_on is not None:
        return timezone.make_aware(datetime.combine(case.expected_on + timedelta(days=1), time.min))
    return case.due_at


def days_past_promise(case: Case, now: datetime) -> float:
    promised = promised_at(case)
    if promised is None or promised >= now:
        return 0.0
    return round((now - promised).total_seconds() / 86400, 1)


def _add_recorded(values: dict[str, float], kind: str, count: int, total: float | None) -> None:
    signal = RECORDED.get(SignalKind(kind))
    if signal is None:
        return
    amount = float(total or 0.0) if signal == "negative_tone" else float(count)
    values[signal] = values.get(signal, 0.0) + amount


def case_signal_values(
    cases: Sequence[Case], *, now: datetime, weights: Weights | None = None
) -> dict[int, dict[str, float]]:
    """Signal values of each case in `cases` (loaded), keyed by case id: five queries."""
    weights = weights or weights_load()
    ids = [c.pk for c in cases]
    out: dict[int, dict[str, float]] = {c.pk: {} for c in cases}
    for case in cases:
        waited = days_past_promise(case, now)
        if waited > 0:
            out[case.pk]["waited"] = waited
    events = (
        CaseEvent.objects.filter(case_id__in=ids, kind__in=list(EVENT_SIGNALS))
        .values("case_id", "kind")
        .annotate(n=Count("id"))
    )
    for row in events:
        out[row["case_id"]][EVENT_SIGNALS[row["kind"]]] = float(row["n"])
    # The same resident reporting the same thing again: their duplicate merged into it.
    repeats = (
        Case.objects.filter(
            merged_into_id__in=ids,
            reporter__isnull=False,
            reporter_id=F("merged_into__reporter_id"),
        )
        .values("merged_into_id")
        .annotate(n=Count("id"))
    )
    for row in repeats:
        values = out[row["merged_into_id"]]
        values["repeat_contact"] = values.get("repeat_contact", 0.0) + row["n"]
    # ...or their new message that intake linked to it as a duplicate.
    linked = (
        InboundMessage.objects.filter(
            case_id__in=ids,
            outcome=Outcome.FOLLOWED,
            citizen__isnull=False,
            citizen_id=F("case__reporter_id"),
        )
        .values("case_id")
        .annotate(n=Count("id"))
    )
    for row in linked:
        values = out[row["case_id"]]
        values["repeat_contact"] = values.get("repeat_contact", 0.0) + row["n"]
    recorded = (
        JourneySignal.objects.filter(case_id__in=ids)
        .filter(~Q(kind=SignalKind.NEGATIVE_TONE) | Q(value__gte=weights.negative_tone_min))
        .values("case_id", "kind")
        .annotate(n=Count("id"), total=Sum("value"))
    )
    for row in recorded:
        _add_recorded(out[row["case_id"]], row["kind"], row["n"], row["total"])
    return out


# What the scan reads of each case (the reference is made of the id and opened_at); the
# few it writes to are loaded whole (case_for_update_message).
SCAN_FIELDS = (
    "pk",
    "status",
    "expected_on",
    "due_at",
    "reporter_id",
    "department_id",
    "opened_at",
)


def case_for_update_message(case_id: int) -> Case:
    """A case with what the honest update needs (reporter, service, council)."""
    return Case.objects.select_related("reporter", "service_type__jurisdiction").get(pk=case_id)


def open_cases_for_scan(*, batch: int = 500) -> Iterable[list[Case]]:
    """Every open case (not duplicates), in batches of `batch` by id, with SCAN_FIELDS."""
    qs = (
        Case.objects.filter(status__in=OPEN_STATUSES, merged_into__isnull=True)
        .only(*SCAN_FIELDS)
        .order_by("pk")
    )
    last = 0
    while True:
        chunk = list(qs.filter(pk__gt=last)[:batch])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk


def open_cases_count() -> int:
    return Case.objects.filter(status__in=OPEN_STATUSES, merged_into__isnull=True).count()


def journey_signal_values(
    *, citizen_id: int, now: datetime, weights: Weights | None = None
) -> dict[str, float]:
    """A resident's journey: their open cases' signals added up (the longest wait, not the
    sum of waits) plus their recorded signals of the last `journey_days` not tied to one
    of those cases (a chat, an abandoned form)."""
    weights = weights or weights_load()
    cases = list(
        Case.objects.filter(
            reporter_id=citizen_id, status__in=OPEN_STATUSES, merged_into__isnull=True
        )
    )
    values: dict[str, float] = {}
    for per_case in case_signal_values(cases, now=now, weights=weights).values():
        for signal, value in per_case.items():
            if signal == "waited":
                values[signal] = max(values.get(signal, 0.0), value)
            else:
                values[signal] = values.get(signal, 0.0) + value
    since = now - timedelta(days=weights.journey_days)
    loose = (
        JourneySignal.objects.filter(citizen_id=citizen_id, at__gte=since)
        .exclude(case_id__in=[c.pk for c in cases])
        .filter(~Q(kind=SignalKind.NEGATIVE_TONE) | Q(value__gte=weights.negative_tone_min))
        .values("kind")
        .annotate(n=Count("id"), total=Sum("value"))
    )
    for row in loose:
        _add_recorded(values, row["kind"], row["n"], row["total"])
    return values


def case_frustration_get(*, case_id: int) -> CaseFrustration | None:
    """The case's index as last computed (the console's breakdown), or None."""
    return CaseFrustration.objects.filter(case_id=case_id).first()


# --- the supervisors' queue -------------------------------------------------------------

# (value, label) of each kind of flag, for the console's filter.
FLAG_KINDS: list[tuple[str, Any]] = [(str(k.value), k.label) for k in FlagKind]  # lazy labels


def flags_may_see(user: Any) -> bool:
    """Supervisors (and department and council admins) handle flags; caseworkers do not."""
    return access_can(user, Action.SUPERVISE)


def flags_visible(user: Any) -> QuerySet[SupervisorFlag]:
    """Flags on cases of `user`'s departments (all for council admins; none for others)."""
    if not flags_may_see(user):
        return SupervisorFlag.objects.none()
    departments = access_department_ids(user)
    qs = SupervisorFlag.objects.all()
    if departments is not None:
        qs = qs.filter(case__department_id__in=departments) if departments else qs.none()
    return qs


@dataclass(frozen=True)
class FlagRow:
    flag: SupervisorFlag
    contributions: list[dict[str, Any]]
    comment: str
    # Sort key: a frustration index as it is; a CSAT (1..5, low is bad) on the same
    # "higher is worse" footing: 5 - csat (so a 1 sorts as 4).
    urgency: float


def flags_open(
    user: Any, *, kind: str = "", department_id: int | None = None, limit: int = 200
) -> list[FlagRow]:
    """Open flags `user` may see, worst first, with each one's reasons: the frustration
    breakdown or the survey's comment. `kind` and `department_id` narrow the list."""
    qs = (
        flags_visible(user)
        .filter(handled_at__isnull=True)
        .select_related("case__department", "case__service_type", "survey")
        .annotate(
            urgency=DbCase(
                When(kind=FlagKind.LOW_SCORE, then=Value(5.0) - F("score")),
                default=F("score"),
                output_field=FloatField(),
            )
        )
    )
    if kind:
        qs = qs.filter(kind=kind)
    if department_id is not None:
        qs = qs.filter(case__department_id=department_id)
    flags = list(qs.order_by("-urgency", "-created_at", "-id")[:limit])
    breakdowns = dict(
        CaseFrustration.objects.filter(
            case_id__in=[f.case_id for f in flags if f.kind == FlagKind.FRUSTRATION]
        ).values_list("case_id", "contributions")
    )
    rows = []
    for flag in flags:
        contributions: list[dict[str, Any]] = []
        if flag.kind == FlagKind.FRUSTRATION:
            contributions = list(breakdowns.get(flag.case_id) or [])
        comment = flag.survey.comment if flag.survey is not None else ""
        rows.append(FlagRow(flag, contributions, comment, float(getattr(flag, "urgency", 0))))
    return rows


def flag_departments(user: Any) -> list[tuple[int, str]]:
    """(id, name) of the departments with an open flag `user` may see: the filter."""
    rows = (
        flags_visible(user)
        .filter(handled_at__isnull=True)
        .values_list("case__department_id", "case__department__name")
        .distinct()
    )
    return sorted(set(rows), key=lambda r: r[1])


def flag_visible_get(user: Any, flag_id: int) -> SupervisorFlag | None:
    """The open flag if `user` may handle it; None otherwise (the same for a wrong id)."""
    return (
        flags_visible(user)
        .filter(pk=flag_id, handled_at__isnull=True)
        .select_related("case")
        .first()
    )


def frustration_flagged(case_ids: list[int]) -> set[int]:
    """Which of these cases already have an open frustration flag (one query)."""
    return set(
        SupervisorFlag.objects.filter(
            case_id__in=case_ids, kind=FlagKind.FRUSTRATION, handled_at__isnull=True
        ).values_list("case_id", flat=True)
    )


def citizen_exists(citizen_id: int) -> bool:
    return Citizen.objects.filter(pk=citizen_id).exists()


def flag_counts_by_kind() -> dict[str, int]:
    rows = SupervisorFlag.objects.filter(handled_at__isnull=True).values("kind")
    counts: dict[str, int] = defaultdict(int)
    for row in rows.annotate(n=Count("id")):
        counts[row["kind"]] = row["n"]
    return dict(counts)
