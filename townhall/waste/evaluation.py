"""Learn from some published years, predict another, and say where and why they differ (pure).

The measure is exact: a collection is a (zone, stream, date) triple; recall is the share of
the published year's triples predicted, precision the share of predicted triples published.
Only streams the published year has a column for are compared (Toronto's 2026 file has no
Recycling column). Each difference carries the reason we can give: for a collection
predicted on another day than published, the holiday in its week and where the policy's
answer for it came from (an exact row, the holiday's own effect, the effect of other
holidays on that weekday, or the council's default); for one with no counterpart within a
week, that the season or cycle differs (or the published date is a one-off).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from townhall.waste.holiday_policy import WEEKDAYS, HolidayPolicy, policy_describe
from townhall.waste.inference import zones_learn
from townhall.waste.schedule import HolidayRule, collections_between

Rows = Iterable[tuple[str, date, Iterable[str]]]


@dataclass(frozen=True)
class Difference:
    zone: str
    stream: str
    day: date
    kind: str  # "missed" (published, not predicted) or "extra" (predicted, not published)
    why: str


@dataclass
class Evaluation:
    learnt_years: list[int]
    years: list[int]
    streams: list[str]
    matched: int = 0
    missed: int = 0
    extra: int = 0
    differences: list[Difference] = field(default_factory=list)
    policy: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        real = self.matched + self.missed
        return self.matched / real if real else 1.0

    @property
    def precision(self) -> float:
        predicted = self.matched + self.extra
        return self.matched / predicted if predicted else 1.0


def _why(policy: HolidayPolicy, holidays: Mapping[date, str], day: date, stream: str) -> str:
    monday = day - timedelta(days=day.weekday())
    near = sorted(h for h in holidays if monday - timedelta(days=2) <= h <= monday + timedelta(6))
    if not near:
        return "moved, with no holiday that week"
    parts = []
    for h in near:
        name = holidays[h]
        row = policy.exact_row(name, h.weekday(), stream)
        if row is not None and row.exact:
            source = "exact row learnt for this holiday on this weekday"
            if not row.holiday:
                source = f"no holiday on a {WEEKDAYS[h.weekday()]} ever moved anything"
            parts.append(f"{name} ({h:%a} {h.isoformat()}): {source}")
            continue
        effect, source = policy.effect_of(name, h.weekday(), stream)
        label = {
            "holiday": "learnt for this holiday",
            "weekday": f"never seen on a collection day; as other {WEEKDAYS[h.weekday()]} holidays",
            "default": "never seen on a collection day; the default",
        }[source]
        parts.append(f"{name} ({h:%a} {h.isoformat()}): {effect.value}, {label}")
    return "; ".join(parts)


def schedule_evaluate(
    learn: Rows,
    actual: Rows,
    *,
    holidays: Mapping[date, str],
    fallback: HolidayRule | None = None,
) -> Evaluation:
    """Learn rules and the holiday policy from `learn` (one or several years), predict the
    years of `actual` and compare them collection by collection."""
    learn_rows = [(z, d, tuple(s)) for z, d, s in learn]
    actual_rows = [(z, d, tuple(s)) for z, d, s in actual]
    policy, zones = zones_learn(learn_rows, holidays=holidays, fallback=fallback)
    years = sorted({d.year for _, d, _ in actual_rows})
    streams = sorted({s for _, _, ss in actual_rows for s in ss})
    result = Evaluation(
        learnt_years=sorted({d.year for _, d, _ in learn_rows}),
        years=years,
        streams=streams,
        policy=policy_describe(policy),
    )
    if not years:
        return result
    start, end = date(years[0], 1, 1), date(years[-1], 12, 31)
    wanted = set(years)
    predicted = {
        (z.zone, s, c.day)
        for z in zones
        for c in collections_between(
            z.rules,
            start,
            end,
            holidays=holidays,
            shift=lambda day, stream: policy.shift(day, holidays, stream),
        )
        if c.day.year in wanted
        for s in c.streams
        if s in streams
    }
    real = {(z, s, d) for z, d, ss in actual_rows for s in ss}
    result.matched = len(predicted & real)
    result.missed = len(real - predicted)
    result.extra = len(predicted - real)
    missed, extra = real - predicted, predicted - real

    def why(zone: str, stream: str, day: date, other: set[tuple[str, str, date]]) -> str:
        if any((zone, stream, day + timedelta(days=n)) in other for n in range(-6, 7) if n):
            return _why(policy, holidays, day, stream)  # the same collection, another day
        return "no such collection near it on the other side: the season or cycle differs"

    result.differences = sorted(
        [Difference(z, s, d, "missed", why(z, s, d, extra)) for z, s, d in missed]
        + [Difference(z, s, d, "extra", why(z, s, d, missed)) for z, s, d in extra],
        key=lambda x: (x.day, x.zone, x.stream, x.kind),
    )
    return result
