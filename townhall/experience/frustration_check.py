"""Are the frustration weights right? What the council's own data says (weights-check).

For every case that was resolved at least once, the signals as they stood when it was
first resolved (days past the promise then, transfers, repeat contacts and recorded
signals before then), and two outcomes that follow:

- `reopen`: was it reopened afterwards? (the `reopened` signal itself is left out: it
  cannot precede the first reopening);
- `low_csat`: did its survey come back at or below TOWNHALL_SURVEY_LOW_SCORE? (signals
  before the survey was sent, reopenings included).

For each outcome and signal: how many cases had the signal, the outcome's rate with and
without it (the plain observed effect), and a logistic regression's coefficient over all
signals together (log-odds per unit of the capped value, the same unit as the weight; L2
regularised so rare signals are not given wild values). The regression needs data: with
fewer than MIN_POSITIVE cases of an outcome (or MIN_CASES cases) it is not fitted and only
the rates are shown. Nothing is changed: the weights stay whatever the YAML says.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.experience.frustration import SIGNALS, Weights, weights_load
from townhall.experience.models import JourneySignal, SignalKind, Survey
from townhall.experience.selectors_frustration import RECORDED, promised_at

MIN_CASES = 200
MIN_POSITIVE = 30


@dataclass
class Sample:
    """One resolved case: its signals as of its first resolution (`values`), as of its
    survey (`survey_values`, None without an answered one), and what followed."""

    case_id: int
    cutoff: datetime
    values: dict[str, float] = field(default_factory=dict)
    reopened: bool = False
    survey_values: dict[str, float] | None = None
    low_csat: bool | None = None  # None: no answered survey


@dataclass(frozen=True)
class SignalEffect:
    signal: str
    weight: float
    with_signal: int  # cases that had it
    rate_with: float | None  # the outcome's rate among them
    rate_without: float | None
    coefficient: float | None  # log-odds per unit (None: not fitted)


@dataclass(frozen=True)
class OutcomeCheck:
    outcome: str
    cases: int
    positive: int
    fitted: bool
    note: str
    effects: tuple[SignalEffect, ...]


def _first_resolutions() -> dict[int, datetime]:
    """When each case was first resolved (its status event, else resolved_at)."""
    first: dict[int, datetime] = {}
    events = CaseEvent.objects.filter(
        kind=CaseEventKind.STATUS_CHANGED, data__to="resolved"
    ).values_list("case_id", "at")
    for case_id, at in events.iterator(chunk_size=2000):
        if case_id not in first or at < first[case_id]:
            first[case_id] = at
    for case_id, resolved_at in Case.objects.filter(resolved_at__isnull=False).values_list(
        "pk", "resolved_at"
    ):
        if resolved_at is not None:
            first.setdefault(case_id, resolved_at)
    return first


def _promises(samples: dict[int, Sample]) -> dict[int, datetime]:
    """The date promised to each resident as it stood when the case was first resolved:
    the expected date given at acknowledgement or by the last due-date change before then
    (a reopening makes a fresh promise, so the case's current one may be a later one)."""
    promised: dict[int, tuple[datetime, str]] = {}
    events = CaseEvent.objects.filter(
        kind__in=[CaseEventKind.ACKNOWLEDGED, CaseEventKind.DUE_CHANGED]
    ).values_list("case_id", "at", "data")
    for case_id, at, data in events.iterator(chunk_size=2000):
        sample = samples.get(case_id)
        expected = (data or {}).get("expected_on")
        if sample is None or not expected or at > sample.cutoff:
            continue
        if case_id not in promised or at >= promised[case_id][0]:
            promised[case_id] = (at, str(expected))
    out = {}
    for case_id, (_at, expected) in promised.items():
        day = date.fromisoformat(expected[:10]) + timedelta(days=1)
        out[case_id] = timezone.make_aware(datetime.combine(day, time.min))
    return out


def samples_collect(*, weights: Weights | None = None) -> list[Sample]:
    """A sample per case resolved at least once (a few queries over the whole history)."""
    weights = weights or weights_load()
    resolved = _first_resolutions()
    if not resolved:
        return []
    samples = {cid: Sample(case_id=cid, cutoff=at) for cid, at in resolved.items()}
    surveys = {
        case_id: (sent_at, csat)
        for case_id, sent_at, csat in Survey.objects.filter(csat__isnull=False).values_list(
            "case_id", "sent_at", "csat"
        )
    }
    low = int(settings.TOWNHALL_EXPERIENCE.low_score)
    promises = _promises(samples)
    cases = Case.objects.filter(pk__in=list(samples)).only("pk", "status", "expected_on", "due_at")
    for case in cases.iterator(chunk_size=2000):
        sample = samples[case.pk]
        promised = promises.get(case.pk) or promised_at(case)
        if promised is not None and promised < sample.cutoff:
            waited = (sample.cutoff - promised).total_seconds() / 86400
            sample.values["waited"] = round(waited, 1)
        csat = surveys[case.pk][1] if case.pk in surveys else None
        if csat is not None:
            sample.low_csat = csat <= low
            sample.survey_values = dict(sample.values)
    # Signals with their time: up to the first resolution for the reopening, up to the
    # survey's sending for the survey.
    timed: dict[int, list[tuple[datetime, str, float]]] = defaultdict(list)
    events = CaseEvent.objects.filter(
        kind__in=[CaseEventKind.REOPENED, CaseEventKind.TRANSFERRED]
    ).values_list("case_id", "kind", "at")
    for case_id, kind, at in events.iterator(chunk_size=2000):
        if case_id not in samples:
            continue
        if kind == CaseEventKind.REOPENED and at > samples[case_id].cutoff:
            samples[case_id].reopened = True
        name = "reopened" if kind == CaseEventKind.REOPENED else "transferred"
        timed[case_id].append((at, name, 1.0))
    repeats = Case.objects.filter(
        merged_into__isnull=False,
        reporter__isnull=False,
        reporter_id=F("merged_into__reporter_id"),
    ).values_list("merged_into_id", "opened_at")
    for case_id, at in repeats.iterator(chunk_size=2000):
        if case_id in samples:
            timed[case_id].append((at, "repeat_contact", 1.0))
    signals = (
        JourneySignal.objects.filter(case__isnull=False)
        .filter(~Q(kind=SignalKind.NEGATIVE_TONE) | Q(value__gte=weights.negative_tone_min))
        .values_list("case_id", "kind", "at", "value")
    )
    for case_id, kind, at, value in signals.iterator(chunk_size=2000):
        if case_id in samples:
            name = RECORDED[SignalKind(kind)]
            timed[case_id].append((at, name, value if name == "negative_tone" else 1.0))
    for case_id, rows in timed.items():
        sample = samples[case_id]
        sent = surveys[case_id][0] if sample.survey_values is not None else None
        for at, name, amount in rows:
            if at <= sample.cutoff:
                sample.values[name] = sample.values.get(name, 0.0) + amount
            if sample.survey_values is not None and sent is not None and at <= sent:
                sample.survey_values[name] = sample.survey_values.get(name, 0.0) + amount
    return list(samples.values())


def _rates(
    rows: list[dict[str, float]], signal: str, label: list[bool]
) -> tuple[int, float | None, float | None]:
    has = [bool(r.get(signal)) for r in rows]
    with_n = sum(has)
    pos_with = sum(1 for h, y in zip(has, label, strict=True) if h and y)
    pos_without = sum(1 for h, y in zip(has, label, strict=True) if not h and y)
    without_n = len(rows) - with_n
    return (
        with_n,
        pos_with / with_n if with_n else None,
        pos_without / without_n if without_n else None,
    )


def outcome_check(
    samples: list[Sample], outcome: str, *, weights: Weights | None = None
) -> OutcomeCheck:
    """The observed effect of each signal on `outcome` ("reopen" or "low_csat")."""
    weights = weights or weights_load()
    rows: list[dict[str, float]]
    if outcome == "reopen":
        rows = [s.values for s in samples]
        label = [s.reopened for s in samples]
        signals = [s for s in SIGNALS if s != "reopened"]
    else:
        answered = [s for s in samples if s.survey_values is not None]
        rows = [s.survey_values or {} for s in answered]
        label = [bool(s.low_csat) for s in answered]
        signals = list(SIGNALS)
    positive = sum(label)
    coefficients: dict[str, float] = {}
    fitted = False
    note = ""
    varying = [s for s in signals if any(r.get(s) for r in rows)]
    if len(rows) < MIN_CASES or positive < MIN_POSITIVE or positive == len(rows):
        note = (
            f"not fitted: needs at least {MIN_CASES} cases and {MIN_POSITIVE} with the "
            f"outcome (and some without); has {len(rows)} and {positive}"
        )
    elif not varying:
        note = "not fitted: no case had any signal"
    else:
        from sklearn.linear_model import LogisticRegression

        matrix = [[min(r.get(s, 0.0), weights.signals[s].cap) for s in varying] for r in rows]
        model = LogisticRegression(C=1.0, max_iter=1000)
        model.fit(matrix, label)
        coefficients = {s: round(float(c), 3) for s, c in zip(varying, model.coef_[0], strict=True)}
        fitted = True
    effects = []
    for signal in signals:
        with_n, rate_with, rate_without = _rates(rows, signal, label)
        effects.append(
            SignalEffect(
                signal=signal,
                weight=weights.signals[signal].weight,
                with_signal=with_n,
                rate_with=rate_with,
                rate_without=rate_without,
                coefficient=coefficients.get(signal),
            )
        )
    return OutcomeCheck(outcome, len(rows), positive, fitted, note, tuple(effects))


def weights_check(*, since_days: int | None = None) -> list[OutcomeCheck]:
    """Both outcomes' checks over the council's history (or its last `since_days`)."""
    weights = weights_load()
    samples = samples_collect(weights=weights)
    if since_days is not None:
        from townhall.core import clock

        start = clock.now() - timedelta(days=since_days)
        samples = [s for s in samples if s.cutoff >= start]
    return [
        outcome_check(samples, "reopen", weights=weights),
        outcome_check(samples, "low_csat", weights=weights),
    ]
