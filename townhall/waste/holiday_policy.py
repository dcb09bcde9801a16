"""What each public holiday does to collections: a table of behaviours, looked up per holiday.

Pure. A council rarely treats every holiday alike: Toronto collects on Good Friday, Canada Day
and Boxing Day, but Christmas Day and New Year's Day push that day's collections and the rest
of the week one day later. `HolidayPolicy` holds one behaviour per holiday name (learnt from
published years, or set by staff) and answers, for a collection regularly due on a day, the
day it happens on (or None when it is skipped).

Lookup for a holiday in the week of a collection, most specific first:

1. `exact`: the shifts seen when this holiday (or any holiday: a weekday on which no
   holiday ever moved anything) fell on this weekday (per collection weekday,
   in days; None = skipped), e.g. Christmas on a Wednesday: Wednesday +1, Thursday 0,
   Friday +1. When one applies to a collection's weekday it is the whole answer for that
   week: it was observed with the week's other holidays in place.
2. the holiday's `effect` (collect, next_day, slide_week, skip) on any weekday;
3. the effect the council gave other holidays falling on the same weekday;
4. the policy's `default` (the council's `holiday_rule`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from townhall.waste.schedule import ONE_DAY, HolidayRule

ANY = ""  # a behaviour for every holiday (name) or every stream


@dataclass(frozen=True)
class HolidayBehaviour:
    """What `holiday` (a name from the `holidays` package; ANY: every holiday) does when it
    falls on `weekday` (None: any weekday) to `stream` (ANY: every stream)."""

    holiday: str
    effect: HolidayRule
    weekday: int | None = None
    stream: str = ANY
    # Exact shifts by collection weekday: ((weekday, days later or None if skipped), ...).
    exact: tuple[tuple[int, int | None], ...] = ()

    def exact_for(self, weekday: int) -> tuple[bool, int | None]:
        """Return (known, shift) for a collection regularly due on `weekday`."""
        for day, shift in self.exact:
            if day == weekday:
                return True, shift
        return False, None


@dataclass(frozen=True)
class HolidayPolicy:
    behaviours: tuple[HolidayBehaviour, ...] = ()
    default: HolidayRule = HolidayRule.COLLECT
    _index: dict[tuple[str, int | None, str], HolidayBehaviour] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        for b in self.behaviours:
            self._index[(b.holiday, b.weekday, b.stream)] = b

    def exact_row(self, name: str, weekday: int, stream: str) -> HolidayBehaviour | None:
        index = self._index
        found = index.get((name, weekday, stream)) or index.get((name, weekday, ANY))
        if found is None:
            found = index.get((ANY, weekday, ANY))
            if found is not None and not found.exact:
                return None
        return found

    def effect_of(self, name: str, weekday: int, stream: str = ANY) -> tuple[HolidayRule, str]:
        """Return the effect of holiday `name` falling on `weekday`, and where it came from
        ("holiday", "weekday" or "default")."""
        index = self._index
        found = index.get((name, None, stream)) or index.get((name, None, ANY))
        if found is not None:
            return found.effect, "holiday"
        found = index.get((ANY, weekday, stream)) or index.get((ANY, weekday, ANY))
        if found is not None and not found.exact:
            return found.effect, "weekday"
        return self.default, "default"

    def closed(self, day: date, holidays: Mapping[date, str], stream: str) -> bool:
        """Return whether no collection can land on `day` (a holiday the crews do not work)."""
        name = holidays.get(day)
        if name is None:
            return False
        row = self.exact_row(name, day.weekday(), stream)
        if row is not None:
            known, shift = row.exact_for(day.weekday())
            if known:
                return shift != 0
        return self.effect_of(name, day.weekday(), stream)[0] is not HolidayRule.COLLECT

    def shift(self, day: date, holidays: Mapping[date, str], stream: str) -> date | None:
        """Return the day a collection of `stream` regularly due on `day` happens, or None."""
        monday = day - timedelta(days=day.weekday())
        week = [
            (h, holidays[h])
            for n in range(7)
            if (h := monday + timedelta(days=n)) in holidays and h <= day
        ]
        if not week:
            return day
        counted = []
        for h, name in week:
            row = self.exact_row(name, h.weekday(), stream)
            if row is not None and row.holiday == ANY:
                continue  # a quiet weekday: a holiday on it does nothing
            if row is not None:
                known, found = row.exact_for(day.weekday())
                if known:
                    return None if found is None else day + timedelta(days=found)
            counted.append((h, name))
        shift = 0
        for h, name in counted:
            effect, _ = self.effect_of(name, h.weekday(), stream)
            if effect is HolidayRule.SLIDE_WEEK or (h == day and effect is HolidayRule.NEXT_DAY):
                shift += 1
            elif h == day and effect is HolidayRule.SKIP:
                return None
        moved = day + timedelta(days=shift)
        while moved != day and self.closed(moved, holidays, stream):
            moved += ONE_DAY
        return moved


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def behaviour_describe(b: HolidayBehaviour) -> str:
    """Return one line saying what a behaviour does ("Christmas Day on Wed: Wed +1, ...")."""
    who = b.holiday or "any holiday"
    when = f" on {WEEKDAYS[b.weekday]}" if b.weekday is not None else ""
    stream = f" ({b.stream})" if b.stream else ""
    if b.exact:
        shifts = ", ".join(
            f"{WEEKDAYS[w]} {'skipped' if d is None else f'{d:+d}'}" for w, d in b.exact
        )
        return f"{who}{when}{stream}: exactly {shifts}"
    return f"{who}{when}{stream}: {b.effect.value}"


def policy_describe(policy: HolidayPolicy) -> list[str]:
    """Return one line per behaviour, then the default."""
    return [
        *(behaviour_describe(b) for b in policy.behaviours),
        f"any other holiday: {policy.default.value}",
    ]
