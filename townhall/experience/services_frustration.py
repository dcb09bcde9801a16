"""Writes for the frustration index: recording journey signals where they happen, and the
scan that computes each open case's index, stores it, and acts above the threshold (an
honest update to the resident at most once per `frustration_update_days`, a flag for the
supervisor). docs/frustration.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from townhall.cases.models import Case
from townhall.core import clock
from townhall.experience import tone
from townhall.experience.flags import flag_handle, flag_raise
from townhall.experience.frustration import FrustrationIndex, frustration_index, weights_load
from townhall.experience.models import (
    CaseFrustration,
    FlagKind,
    JourneySignal,
    SignalKind,
)
from townhall.experience.selectors_frustration import (
    case_for_update_message,
    case_signal_values,
    frustration_flagged,
    journey_signal_values,
    open_cases_for_scan,
)
from townhall.intake.models import InboundMessage
from townhall.notify.updates import delay_update_queue

log = logging.getLogger(__name__)

# What a signal's `data` may hold: ids, counts and labels, never words or contacts.
__all__ = [
    "flag_handle",
    "frustration_scan",
    "journey_frustration",
    "journey_signal_record",
    "journey_signal_record_safely",
    "journey_tone_record",
    "signals_record_many",
]

DATA_KEYS = frozenset({"conversation", "message", "reason", "skill", "duplicate", "photos"})


def _clean(data: dict[str, Any] | None) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in (data or {}).items():
        if key not in DATA_KEYS:
            raise ValueError(f"journey signal data: {key!r} is not allowed (no personal data)")
        if not isinstance(value, int | float | bool) and not (
            isinstance(value, str) and len(value) <= 40
        ):
            raise ValueError(f"journey signal data: {key!r} must be a number or a short label")
        clean[key] = value
    return clean


def journey_signal_record(
    *,
    kind: str,
    channel: str,
    case_id: int | None = None,
    citizen_id: int | None = None,
    value: float = 1.0,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> JourneySignal:
    """Record one moment of friction. `data` holds ids and labels only (ValueError for any
    other key or a long string: no words, names or contacts get in)."""
    SignalKind(kind)  # ValueError for an unknown kind
    return JourneySignal.objects.create(
        kind=kind,
        channel=channel,
        case_id=case_id,
        citizen_id=citizen_id,
        value=max(0.0, min(1.0, float(value))),
        data=_clean(data),
        at=at or clock.now(),
    )


def journey_signal_record_safely(**kwargs: Any) -> JourneySignal | None:
    """`journey_signal_record` for callers in the middle of serving a resident: a failure
    is logged (without the data) and never spoils their request."""
    try:
        with transaction.atomic():
            return journey_signal_record(**kwargs)
    except Exception:
        log.exception("experience: a journey signal (%s) was not recorded", kwargs.get("kind"))
        return None


def journey_tone_record(
    *, text: str, channel: str, case_id: int | None = None, citizen_id: int | None = None
) -> JourneySignal | None:
    """Score a resident's message (experience.tone) and record it as negative tone when it
    reaches `negative_tone_min`; None otherwise. The words are not stored."""
    try:
        score = float(tone.frustration_score(text))
    except Exception:
        log.exception("experience: the tone of a message could not be scored")
        return None
    if score < weights_load().negative_tone_min:
        return None
    return journey_signal_record_safely(
        kind=SignalKind.NEGATIVE_TONE,
        channel=channel,
        case_id=case_id,
        citizen_id=citizen_id,
        value=score,
    )


def _messages_tone_record(case_ids: list[int], since: datetime | None) -> int:
    """Residents' messages added to these cases (e-mail replies, texts) since the last
    scan: score their tone and record the negative ones, once per message."""
    qs = InboundMessage.objects.filter(case_id__in=case_ids).exclude(text="")
    if since is not None:
        qs = qs.filter(received_at__gte=since)
    rows = list(qs.values_list("pk", "case_id", "citizen_id", "channel", "text", "received_at"))
    if not rows:
        return 0
    seen = set(
        JourneySignal.objects.filter(
            kind=SignalKind.NEGATIVE_TONE, case_id__in=case_ids, data__has_key="message"
        ).values_list("data__message", flat=True)
    )
    minimum = weights_load().negative_tone_min
    made = []
    for pk, case_id, citizen_id, channel, text, received_at in rows:
        if pk in seen:
            continue
        score = float(tone.frustration_score(text))
        if score >= minimum:
            made.append(
                JourneySignal(
                    kind=SignalKind.NEGATIVE_TONE,
                    at=received_at,
                    case_id=case_id,
                    citizen_id=citizen_id,
                    channel=channel,
                    value=min(1.0, score),
                    data={"message": pk},
                )
            )
    JourneySignal.objects.bulk_create(made)
    return len(made)


@dataclass
class ScanResult:
    cases: int = 0
    above: int = 0
    told: int = 0
    flagged: int = 0
    tone_signals: int = 0


def frustration_scan(
    *,
    now: datetime | None = None,
    batch: int = 500,
    progress: Callable[[int], None] | None = None,
) -> ScanResult:
    """Compute the index of every open case, store it with its contributions, and for
    each case at or above the threshold: flag it for the supervisor (once while the flag
    is open) and send the reporter an honest update (at most once per
    `frustration_update_days`). `progress` is called with the cases done per batch."""
    now = now or clock.now()
    conf = settings.TOWNHALL_EXPERIENCE
    threshold = float(conf.frustration_threshold)
    quiet = timedelta(days=int(conf.frustration_update_days))
    weights = weights_load()
    last_scan = CaseFrustration.objects.aggregate(at=Max("computed_at"))["at"]
    since = last_scan - timedelta(hours=1) if last_scan is not None else None
    result = ScanResult()
    for cases in open_cases_for_scan(batch=batch):
        ids = [c.pk for c in cases]
        result.tone_signals += _messages_tone_record(ids, since)
        values = case_signal_values(cases, now=now, weights=weights)
        stored = {f.case_id: f for f in CaseFrustration.objects.filter(case_id__in=ids)}
        flagged = frustration_flagged(ids)
        new: list[CaseFrustration] = []
        changed: list[CaseFrustration] = []
        unchanged: list[int] = []
        for case in cases:
            index = frustration_index(values[case.pk], weights)
            contributions = index.as_list()
            row = stored.get(case.pk)
            if row is None:
                row = CaseFrustration(case_id=case.pk)
                new.append(row)
            told_before = row.resident_told_at
            moved = row.score != index.score or row.contributions != contributions
            row.score, row.contributions, row.computed_at = index.score, contributions, now
            if index.score >= threshold:
                result.above += 1
                told, raised = _act(
                    case, row, index.score, now=now, quiet=quiet, flagged=case.pk in flagged
                )
                result.told += told
                result.flagged += raised
            if row.pk is None:
                continue  # in `new`
            if moved or row.resident_told_at != told_before:
                changed.append(row)
            else:
                unchanged.append(row.pk)
        CaseFrustration.objects.bulk_create(new)
        # Rows whose index moved are rewritten; the rest only get the time (one UPDATE).
        CaseFrustration.objects.bulk_update(
            changed, ["score", "contributions", "computed_at", "resident_told_at"]
        )
        CaseFrustration.objects.filter(pk__in=unchanged).update(computed_at=now)
        result.cases += len(cases)
        if progress is not None:
            progress(len(cases))
    return result


def _reason(row: CaseFrustration) -> str:
    whys = "; ".join(str(c["why"]) for c in row.contributions[:3])
    return f"frustration {row.score:.2f}: {whys}"


def _act(
    case: Case,
    row: CaseFrustration,
    score: float,
    *,
    now: datetime,
    quiet: timedelta,
    flagged: bool,
) -> tuple[int, int]:
    """Flag and tell for one case above the threshold; (told, raised) as 0 or 1. Nothing
    is queried for a case already flagged whose resident was told lately."""
    told = raised = 0
    due = row.resident_told_at is None or row.resident_told_at <= now - quiet
    if flagged and not (due and case.reporter_id is not None):
        return 0, 0
    with transaction.atomic():
        if not flagged:
            _flag, created = flag_raise(
                case=case, kind=FlagKind.FRUSTRATION, score=score, reason=_reason(row)
            )
            raised = int(created)
        if due and case.reporter_id is not None:
            try:
                made = delay_update_queue(case=case_for_update_message(case.pk), now=now)
            except LookupError:  # no template for the channel: the flag still stands
                log.warning("experience: no delay-update template for case %s", case.pk)
                made = None
            if made is not None:
                row.resident_told_at = now
                told = 1
    return told, raised


def journey_frustration(*, citizen_id: int, now: datetime | None = None) -> FrustrationIndex:
    """The index of a resident's journey (their open cases and recent signals)."""
    now = now or clock.now()
    return frustration_index(journey_signal_values(citizen_id=citizen_id, now=now))


def signals_record_many(rows: Iterable[JourneySignal]) -> int:
    """Insert prepared signals in one statement (their `data` is checked like one's)."""
    made = list(rows)
    for row in made:
        row.data = _clean(row.data)
    JourneySignal.objects.bulk_create(made)
    return len(made)
