"""Learn what each public holiday does to collections from published years (pure).

Input: each zone's regular rules (already inferred), the dates actually collected, the
holidays ({date: name}) and the spans the published files cover. For every collection
regularly due in a holiday's week we look up the day it really happened (the observed
collection of that stream within a few days, or none: skipped). Then:

1. A weekday nobody collects on (Monday in Toronto) is *quiet* when no holiday on it ever
   moved a collection: holidays on it do nothing. Every other holiday gets the effect
   (collect, next_day, slide_week, skip) that explains its weeks best; on a tie, the
   effect that reproduces more of the collections that *moved* wins (a moved collection
   is evidence, an unmoved one is what no holiday looks like),
   then the simpler effect. Holidays sharing a week (Christmas and Boxing Day) are chosen
   together, every combination tried. A stream that is better explained by another effect gets a
   row of its own.
2. For each weekday, the effect most holidays falling on it with a collection due on them
   were given (the fallback for a holiday never seen on a collection day in the training
   years), and overall the most common effect (the council's default; `fallback`
   overrides it).
3. Weeks the effects above still do not reproduce (Christmas on a Monday when the city
   does not collect on Mondays; a week where the city did something irregular) get an
   exact row for the week's first holiday on that weekday: the shift seen per collection
   weekday, so the same holiday on the same weekday is reproduced again.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from townhall.waste.holiday_policy import ANY, HolidayBehaviour, HolidayPolicy
from townhall.waste.schedule import HolidayRule, Rule

EFFECTS = (HolidayRule.COLLECT, HolidayRule.NEXT_DAY, HolidayRule.SLIDE_WEEK, HolidayRule.SKIP)
# A holiday moves a collection at most this many days later (or earlier, by EARLIEST).
LATEST, EARLIEST = 4, 2


@dataclass(frozen=True)
class Seen:
    """One collection regularly due in a holiday's week, and when it really happened."""

    zone: str
    stream: str
    regular: date
    actual: date | None  # None: not collected that week (skipped)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _in(spans: Iterable[tuple[date, date]], day: date) -> bool:
    return any(a <= day <= b for a, b in spans)


def observations(
    rules: Mapping[str, list[Rule]],
    observed: Mapping[str, set[tuple[date, str]]],
    holidays: Mapping[date, str],
    spans: list[tuple[date, date]],
) -> dict[date, list[Seen]]:
    """Return, per Monday of a week holding a holiday inside `spans`, what happened to each
    collection regularly due that week."""
    weeks = sorted({_monday(h) for h in holidays if _in(spans, h)})
    found: dict[date, list[Seen]] = {}
    for monday in weeks:
        sunday = monday + timedelta(days=6)
        seen: list[Seen] = []
        for zone, zone_rules in sorted(rules.items()):
            days = observed.get(zone, set())
            for rule in zone_rules:
                regular_all = set(
                    rule.regular_dates(monday - timedelta(days=14), sunday + timedelta(days=14))
                )
                for regular in sorted(d for d in regular_all if monday <= d <= sunday):
                    if not _in(spans, regular):
                        continue
                    window = [
                        regular + timedelta(days=n)
                        for n in sorted(range(-EARLIEST, LATEST + 1), key=abs)
                    ]
                    actual = next(
                        (
                            d
                            for d in window
                            if (d, rule.stream) in days and (d == regular or d not in regular_all)
                        ),
                        None,
                    )
                    seen.append(Seen(zone, rule.stream, regular, actual))
        found[monday] = seen
    return found


def _score(
    policy: HolidayPolicy,
    weeks: Iterable[list[Seen]],
    holidays: Mapping[date, str],
    stream: str | None = None,
) -> tuple[int, int]:
    """Return (collections not reproduced, moved collections reproduced)."""
    wrong = moved = 0
    for seen in weeks:
        for s in seen:
            if stream is not None and s.stream != stream:
                continue
            predicted = policy.shift(s.regular, holidays, s.stream)
            if predicted != s.actual:
                wrong += 1
            elif s.actual != s.regular:
                moved += 1
    return wrong, moved


def _groups(holidays: Mapping[date, str]) -> list[list[str]]:
    """Return the holiday names in groups that share a week somewhere (Christmas and
    Boxing Day): their effects are chosen together, every combination tried."""
    parent: dict[str, str] = {n: n for n in holidays.values()}

    def root(n: str) -> str:
        while parent[n] != n:
            n = parent[n]
        return n

    by_week: dict[date, list[str]] = {}
    for h, name in holidays.items():
        by_week.setdefault(_monday(h), []).append(name)
    for names in by_week.values():
        for other in names[1:]:
            parent[root(other)] = root(names[0])
    groups: dict[str, list[str]] = {}
    for name in sorted(parent):
        groups.setdefault(root(name), []).append(name)
    return list(groups.values())


def _key(
    policy: HolidayPolicy, weeks: list[list[Seen]], holidays: Mapping[date, str], e: HolidayRule
) -> tuple[int, int, int]:
    wrong, moved = _score(policy, weeks, holidays)
    return wrong, -moved, EFFECTS.index(e)


def _policy(
    names: Mapping[tuple[str, str], HolidayRule],
    extra: Iterable[HolidayBehaviour] = (),
    default: HolidayRule = HolidayRule.COLLECT,
) -> HolidayPolicy:
    rows = [HolidayBehaviour(holiday=n, stream=s, effect=e) for (n, s), e in names.items()]
    return HolidayPolicy(behaviours=(*rows, *extra), default=default)


def holiday_policy_learn(
    *,
    rules: Mapping[str, list[Rule]],
    observed: Mapping[str, set[tuple[date, str]]],
    holidays: Mapping[date, str],
    spans: list[tuple[date, date]],
    fallback: HolidayRule | None = None,
) -> HolidayPolicy:
    """Return the per-holiday policy that best reproduces the observed years."""
    seen_by_week = observations(rules, observed, holidays, spans)
    regular_days = {s.regular for seen in seen_by_week.values() for s in seen}
    # A weekday nobody collects on (Monday in Toronto) is quiet if no holiday on it ever
    # moved a collection: a holiday falling on it then does nothing (a row of zeros).
    working = {r.weekday for zone_rules in rules.values() for r in zone_rules}
    quiet = []
    for weekday in sorted(set(range(7)) - working):
        weeks = [
            seen_by_week[_monday(h)] for h in holidays if h.weekday() == weekday and _in(spans, h)
        ]
        if weeks and all(s.actual == s.regular for seen in weeks for s in seen):
            quiet.append(
                HolidayBehaviour(
                    holiday=ANY,
                    weekday=weekday,
                    effect=HolidayRule.COLLECT,
                    exact=tuple((w, 0) for w in range(7)),
                )
            )
    quiet_days = {q.weekday for q in quiet}
    active = {h: n for h, n in holidays.items() if _in(spans, h) and h.weekday() not in quiet_days}
    # The weekday and default statistics count holidays with a collection due on them.
    informative = {h: n for h, n in active.items() if h in regular_days}
    weeks_of: dict[str, list[list[Seen]]] = {}
    for h, name in active.items():
        weeks_of.setdefault(name, []).append(seen_by_week[_monday(h)])
    streams = sorted({s.stream for seen in seen_by_week.values() for s in seen})
    effects: dict[tuple[str, str], HolidayRule] = {(n, ANY): HolidayRule.COLLECT for n in weeks_of}
    for group in _groups(active):
        weeks = [
            seen_by_week[m] for m in sorted({_monday(h) for h, n in active.items() if n in group})
        ]
        best: tuple[int, int, int] | None = None
        for combo in itertools.product(EFFECTS, repeat=len(group)) if len(group) <= 4 else []:
            trial = _policy({**effects, **{(n, ANY): e for n, e in zip(group, combo, strict=True)}})
            wrong, moved = _score(trial, weeks, active)
            key = (wrong, -moved, sum(EFFECTS.index(e) for e in combo))
            if best is None or key < best:
                best = key
                for n, e in zip(group, combo, strict=True):
                    effects[(n, ANY)] = e
        if len(group) > 4:  # many holidays sharing weeks: one at a time
            for name in group:
                effects[(name, ANY)] = min(
                    EFFECTS,
                    key=lambda e: _key(_policy({**effects, (name, ANY): e}), weeks, active, e),
                )
    for name in sorted(weeks_of):  # a stream the holiday treats differently
        for stream in streams:
            base = _score(_policy(effects), weeks_of[name], active, stream)
            for effect in EFFECTS:
                if effect is effects[(name, ANY)]:
                    continue
                trial = _policy({**effects, (name, stream): effect})
                if _score(trial, weeks_of[name], active, stream)[0] < base[0]:
                    effects[(name, stream)] = effect
                    base = _score(trial, weeks_of[name], active, stream)
    # Step 2: by weekday, and overall.
    by_weekday: dict[int, Counter[HolidayRule]] = {}
    overall: Counter[HolidayRule] = Counter()
    for h, name in sorted(informative.items()):
        effect = effects[(name, ANY)]
        by_weekday.setdefault(h.weekday(), Counter())[effect] += 1
        overall[effect] += 1

    def majority(counts: Counter[HolidayRule]) -> HolidayRule:
        return max(EFFECTS, key=lambda e: (counts[e], -EFFECTS.index(e)))

    weekday_rows = [
        HolidayBehaviour(holiday=ANY, weekday=w, effect=majority(c))
        for w, c in sorted(by_weekday.items())
    ]
    default = fallback or (majority(overall) if overall else HolidayRule.COLLECT)
    weekday_rows += quiet
    policy = _policy(effects, weekday_rows, default)
    # Step 3: exact rows for the weeks still not reproduced, with every holiday in place.
    exact: dict[tuple[str, int, str], HolidayBehaviour] = {}
    for monday, seen in sorted(seen_by_week.items()):
        if not _score(policy, [seen], holidays)[0]:
            continue
        first = min(h for h in holidays if _monday(h) == monday)
        name = holidays[first]
        if (name, first.weekday(), ANY) in exact:  # the same holiday on the same weekday
            continue  # again: the first year seen is kept (its overrides keep the other)
        affected = [s for s in seen if s.regular >= first]
        general: dict[int, int | None] = {}
        for stream in [ANY, *streams]:
            shifts: dict[int, Counter[int | None]] = {}
            for s in affected:
                if stream and s.stream != stream:
                    continue
                days = None if s.actual is None else (s.actual - s.regular).days
                shifts.setdefault(s.regular.weekday(), Counter())[days] += 1
            table = {w: c.most_common(1)[0][0] for w, c in sorted(shifts.items())}
            if not table or (stream and table.items() <= general.items()):
                continue  # a stream row only where the stream differs from the week's
            if not stream:
                general = table
            exact[(name, first.weekday(), stream)] = HolidayBehaviour(
                holiday=name,
                weekday=first.weekday(),
                stream=stream,
                effect=effects.get((name, ANY), default),
                exact=tuple(table.items()),
            )
    return _policy(effects, [*weekday_rows, *exact.values()], default)
