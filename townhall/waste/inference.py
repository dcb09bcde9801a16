"""Infer a zone's rules from the dates it was collected on, and score a prediction.

Pure. From one year of (stream, date) pairs: the weekday (the most common one), the cycle
(the greatest common divisor of the week gaps), its phase, and the season (the span of the
dates widened by half a cycle at each end, so that a season which starts on "the second
Tuesday of March" still catches that Tuesday in a year where it falls two days earlier).
The holiday rule is chosen council-wide: the one leaving the fewest dates unexplained.
Dates the rules still do not explain become explicit overrides, so an import reproduces
its own year exactly; a generated new year uses the rules alone.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from townhall.waste.schedule import (
    HolidayRule,
    Override,
    OverrideAction,
    Rule,
    Season,
    collections_between,
    week_index,
)


@dataclass
class ZoneInference:
    zone: str
    weekday: int
    rules: list[Rule]
    overrides: list[Override] = field(default_factory=list)


def _season(days: list[date], cycle: int) -> Season:
    """Return the season covering `days` (sorted, one year), all year if there is no gap."""
    year = days[0].year
    half = timedelta(days=cycle * 7 // 2)
    gaps = [(b - a, a, b) for a, b in itertools.pairwise(days)]
    wrap = (days[0] + timedelta(days=365) - days[-1], days[-1], days[0])
    widest = max([*gaps, wrap])
    # A cancelled collection or two leaves a gap of a few cycles; an off season is months.
    if widest[0] <= timedelta(weeks=max(2 * cycle + 1, 5)):
        return Season()
    if widest is wrap:  # one span inside the year: clamp its widened ends to the year
        start = max(days[0] - half, date(year, 1, 1))
        end = min(days[-1] + half, date(year, 12, 31))
    else:  # the collections run over the new year (Dec - Jan): the gap is in mid-year
        start, end = widest[2] - half, widest[1] + half
    return Season(start=(start.month, start.day), end=(end.month, end.day))


def rule_infer(stream: str, days: Iterable[date]) -> Rule:
    """Return the rule that best explains the collections of one stream in one zone."""
    ordered = sorted(set(days))
    weekday = Counter(d.weekday() for d in ordered).most_common(1)[0][0]
    weeks = sorted({week_index(d) for d in ordered})
    cycle = 0
    for a, b in itertools.pairwise(weeks):
        cycle = math.gcd(cycle, b - a)
    cycle = max(cycle, 1)
    if cycle > 8:  # a handful of scattered dates (a one-off): treat as weekly, seasonal
        cycle = 1
    phase = weeks[0] % cycle
    return Rule(
        stream=stream,
        weekday=weekday,
        cycle_weeks=cycle,
        phase=phase,
        season=_season(ordered, cycle),
    )


def _residual_overrides(
    rules: list[Rule],
    observed: set[tuple[date, str]],
    start: date,
    end: date,
    holidays: Mapping[date, str],
    holiday_rule: HolidayRule,
) -> list[Override]:
    predicted = collections_between(rules, start, end, holidays=holidays, holiday_rule=holiday_rule)
    made: list[Override] = []
    regular_of = {(s, c.day): c.regular_day for c in predicted for s in c.streams}
    pred = {(c.day, s) for c in predicted for s in c.streams}
    extra = sorted(pred - observed)
    missed = sorted(observed - pred)
    missed_by_week = {(week_index(d), s): d for d, s in missed}
    for day, stream in extra:
        to = missed_by_week.pop((week_index(day), stream), None)
        regular = regular_of[(stream, day)]
        if to is None:
            made.append(Override(day=regular, action=OverrideAction.CANCEL, stream=stream))
        else:
            made.append(Override(day=regular, action=OverrideAction.MOVE, stream=stream, to=to))
    for (_, stream), day in sorted(missed_by_week.items(), key=lambda item: item[1]):
        made.append(Override(day=day, action=OverrideAction.ADD, stream=stream))
    return made


def zones_infer(
    rows: Iterable[tuple[str, date, Iterable[str]]],
    *,
    holidays: Mapping[date, str] = {},
) -> tuple[HolidayRule, list[ZoneInference]]:
    """Return the council's holiday rule and each zone's rules and overrides."""
    by_zone: dict[str, dict[str, list[date]]] = {}
    observed: dict[str, set[tuple[date, str]]] = {}
    for zone, day, streams in rows:
        for stream in streams:
            by_zone.setdefault(zone, {}).setdefault(stream, []).append(day)
            observed.setdefault(zone, set()).add((day, stream))
    if not by_zone:
        return HolidayRule.COLLECT, []
    all_days = [d for streams in by_zone.values() for days in streams.values() for d in days]
    start, end = min(all_days), max(all_days)
    rules = {
        zone: [rule_infer(stream, days) for stream, days in streams.items()]
        for zone, streams in by_zone.items()
    }
    best: tuple[int, HolidayRule, dict[str, list[Override]]] | None = None
    for choice in HolidayRule:  # COLLECT first: the simplest rule wins a tie
        residual = {
            zone: _residual_overrides(zr, observed[zone], start, end, holidays, choice)
            for zone, zr in rules.items()
        }
        count = sum(len(v) for v in residual.values())
        if best is None or count < best[0]:
            best = (count, choice, residual)
    assert best is not None
    _, holiday_rule, residual = best
    inferred = [
        ZoneInference(
            zone=zone,
            weekday=Counter(r.weekday for r in zr).most_common(1)[0][0],
            rules=zr,
            overrides=residual[zone],
        )
        for zone, zr in sorted(rules.items())
    ]
    return holiday_rule, inferred


@dataclass
class Score:
    matched: int = 0
    missed: int = 0  # in the real schedule, not predicted
    extra: int = 0  # predicted, not in the real schedule

    @property
    def accuracy(self) -> float:
        """Return matched / (matched + missed + extra): 1.0 is a perfect prediction."""
        total = self.matched + self.missed + self.extra
        return self.matched / total if total else 1.0


def schedule_compare(
    predicted: Iterable[tuple[str, date, Iterable[str]]],
    actual: Iterable[tuple[str, date, Iterable[str]]],
) -> tuple[dict[tuple[str, str], Score], list[tuple[str, str, date, str]]]:
    """Score a prediction per (zone, stream); also return each difference
    as (zone, stream, date, "missed" or "extra")."""
    pred = {(z, s, d) for z, d, streams in predicted for s in streams}
    real = {(z, s, d) for z, d, streams in actual for s in streams}
    scores: dict[tuple[str, str], Score] = {}
    for z, s, _ in sorted(pred | real):
        scores.setdefault((z, s), Score())
    for z, s, _ in pred & real:
        scores[(z, s)].matched += 1
    differences = []
    for z, s, d in real - pred:
        scores[(z, s)].missed += 1
        differences.append((z, s, d, "missed"))
    for z, s, d in pred - real:
        scores[(z, s)].extra += 1
        differences.append((z, s, d, "extra"))
    return scores, sorted(differences)
