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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import partial

from townhall.waste.holiday_learning import holiday_policy_learn
from townhall.waste.holiday_policy import HolidayPolicy
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


def _seasons_combine(seasons: list[Season]) -> Season:
    """Return one season covering each year's: the earliest start and the latest end
    (all year if any year was all year; the years' wrapping seasons if they disagree)."""
    if any(s.all_year for s in seasons):
        return Season()
    wrapping = [s for s in seasons if s.start > s.end]
    chosen = wrapping or seasons
    return Season(start=min(s.start for s in chosen), end=max(s.end for s in chosen))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


Fits = dict[int, tuple[int, int]]  # day of the year of the start -> (fewest, most weeks)


def season_fits(days: list[date], cycle: int, spans: list[tuple[date, date]]) -> Fits:
    """Return the seasons counted in weeks that fit every year in `spans` ({} if none).

    Tried only when the years agree on how many collections the season holds (a count
    that stays the same while the dates drift is the sign of a season counted in weeks).
    Dates far from the rest of their year (a one-off in January for a spring stream) are
    left out, to become overrides.
    """
    years: dict[int, list[date]] = {}
    for d in days:
        years.setdefault(d.year, []).append(d)
    spans_of = {a.year: (a, b) for a, b in spans}
    clean: dict[int, list[date]] = {}
    for year, found in years.items():
        if year not in spans_of:
            return {}
        weeks = [week_index(d) for d in found]
        clean[year] = [
            d
            for d, w in zip(found, weeks, strict=True)
            if any(0 < abs(w - v) <= 3 * cycle for v in weeks)
        ]
    if (
        len(clean) < 2
        or len({len(v) for v in clean.values()}) != 1
        or not min(map(len, clean.values()))
    ):
        return {}
    feasible: Fits = {}
    for n in range(365):
        start = date(2001, 1, 1) + timedelta(days=n)
        lo, hi = 1, 53
        for year, found in clean.items():
            first = date(year, start.month, start.day)
            anchor = first + timedelta(days=-first.weekday() % 7)
            span_start, span_end = spans_of[year]
            mondays = sorted({_monday(d) for d in found})
            if mondays[0] < anchor:
                lo = hi + 1
                break
            lo = max(lo, (mondays[-1] - anchor).days // 7 + 1)
            before = mondays[0] - timedelta(weeks=cycle)
            if before >= anchor and before >= _monday(span_start):
                lo = hi + 1  # a regular week before the first one had no collection
                break
            after = mondays[-1] + timedelta(weeks=cycle)
            if after <= span_end:
                hi = min(hi, (after - anchor).days // 7)
        if lo <= hi:
            feasible[n] = (lo, hi)
    return feasible


def season_choose(fits: Fits) -> Season | None:
    """Return the middle start of the longest run of starts that fit, and the middle
    number of weeks at that start (None without fits)."""
    if not fits:
        return None
    items = sorted((n, lo, hi) for n, (lo, hi) in fits.items())
    runs: list[list[tuple[int, int, int]]] = [[items[0]]]
    for item in items[1:]:
        if item[0] == runs[-1][-1][0] + 1:
            runs[-1].append(item)
        else:
            runs.append([item])
    run = max(runs, key=len)
    n, lo, hi = run[(len(run) - 1) // 2]
    start = date(2001, 1, 1) + timedelta(days=n)
    return Season(start=(start.month, start.day), weeks=(lo + hi) // 2)


def rule_infer(stream: str, days: Iterable[date]) -> Rule:
    """Return the rule that best explains the collections of one stream in one zone (one
    year or several: the season is found per year and the years' seasons combined)."""
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
    season = _seasons_combine(
        [
            _season([d for d in ordered if d.year == year], cycle)
            for year in sorted({d.year for d in ordered})
        ]
    )
    return Rule(
        stream=stream,
        weekday=weekday,
        cycle_weeks=cycle,
        phase=phase,
        season=season,
    )


def _residual_overrides(
    rules: list[Rule],
    observed: set[tuple[date, str]],
    start: date,
    end: date,
    holidays: Mapping[date, str],
    holiday_rule: HolidayRule,
    shift: Callable[[date, str], date | None] | None = None,
) -> list[Override]:
    predicted = collections_between(
        rules, start, end, holidays=holidays, holiday_rule=holiday_rule, shift=shift
    )
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


def year_spans(days: Iterable[date]) -> list[tuple[date, date]]:
    """Return, per calendar year present, the span its dates cover: from the Monday of the
    first date's week to the Sunday of the last one's, within the year (a file whose first
    collection is Thursday 2 January still covers a holiday on Wednesday 1 January)."""
    by_year: dict[int, list[date]] = {}
    for d in days:
        by_year.setdefault(d.year, []).append(d)
    return [
        (
            max(_monday(min(v)), date(year, 1, 1)),
            min(_monday(max(v)) + timedelta(days=6), date(year, 12, 31)),
        )
        for year, v in sorted(by_year.items())
    ]


def zones_learn(
    rows: Iterable[tuple[str, date, Iterable[str]]],
    *,
    holidays: Mapping[date, str] = {},
    fallback: HolidayRule | None = None,
) -> tuple[HolidayPolicy, list[ZoneInference]]:
    """Learn each zone's rules and the per-holiday policy from one or several years; the
    dates still unexplained, year by year, become overrides (so every year given is
    reproduced exactly)."""
    by_zone: dict[str, dict[str, list[date]]] = {}
    observed: dict[str, set[tuple[date, str]]] = {}
    for zone, day, streams in rows:
        for stream in streams:
            by_zone.setdefault(zone, {}).setdefault(stream, []).append(day)
            observed.setdefault(zone, set()).add((day, stream))
    if not by_zone:
        return HolidayPolicy(default=fallback or HolidayRule.COLLECT), []
    spans = year_spans(d for z in observed.values() for d, _ in z)
    rules = {
        zone: [rule_infer(stream, days) for stream, days in streams.items()]
        for zone, streams in by_zone.items()
    }
    _seasons_in_weeks(rules, by_zone, spans)
    policy = holiday_policy_learn(
        rules=rules, observed=observed, holidays=holidays, spans=spans, fallback=fallback
    )
    shift = partial(_policy_shift, policy, holidays)
    inferred = []
    for zone, zr in sorted(rules.items()):
        overrides = [
            o
            for start, end in spans
            for o in _residual_overrides(
                zr,
                {(d, s) for d, s in observed[zone] if start <= d <= end},
                start,
                end,
                holidays,
                policy.default,
                shift,
            )
        ]
        weekday = Counter(r.weekday for r in zr).most_common(1)[0][0]
        inferred.append(ZoneInference(zone=zone, weekday=weekday, rules=zr, overrides=overrides))
    return policy, inferred


def _seasons_in_weeks(
    rules: dict[str, list[Rule]],
    by_zone: Mapping[str, Mapping[str, list[date]]],
    spans: list[tuple[date, date]],
) -> None:
    """Give seasonal rules a season counted in weeks where the years support one: the
    same for every zone of the stream if one fits them all, else the zone's own."""
    fits: dict[tuple[str, str], Fits] = {}
    for zone, zone_rules in rules.items():
        for rule in zone_rules:
            if not rule.season.all_year:
                found = season_fits(sorted(by_zone[zone][rule.stream]), rule.cycle_weeks, spans)
                if found:
                    fits[(zone, rule.stream)] = found
    for stream in sorted({s for _, s in fits}):
        own = {z: f for (z, s), f in fits.items() if s == stream}
        shared: Fits = {}
        for n in set.intersection(*(set(f) for f in own.values())):
            lo = max(f[n][0] for f in own.values())
            hi = min(f[n][1] for f in own.values())
            if lo <= hi:
                shared[n] = (lo, hi)
        for zone, found in own.items():
            season = season_choose(shared or found)
            if season is not None:
                rules[zone] = [
                    replace(r, season=season) if r.stream == stream else r for r in rules[zone]
                ]


def _policy_shift(
    policy: HolidayPolicy, holidays: Mapping[date, str], day: date, stream: str
) -> date | None:
    return policy.shift(day, holidays, stream)


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
