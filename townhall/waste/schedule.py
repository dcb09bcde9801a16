"""Collection dates from rules: weekday, cycle and phase, season, holidays and overrides.

Pure: no database, no clock. Everything works on plain dates so that a zone's year can be
computed once and shared by every address in the zone.

A cycle's phase counts whole weeks from a fixed Monday (`WEEK_ZERO`), not ISO week numbers,
so alternate weeks stay alternate across a year boundary and across 53-week years.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

WEEK_ZERO = date(2000, 1, 3)  # a Monday
ONE_DAY = timedelta(days=1)
# A holiday shift moves a collection by a few days at most; ranges are padded by this much
# so that a collection regularly due just outside a range but moved into it is found.
PAD = timedelta(days=14)


class HolidayRule(enum.StrEnum):
    """What happens to a collection that falls on a public holiday."""

    COLLECT = "collect"  # collected as usual
    NEXT_DAY = "next_day"  # only that collection moves, to the next day that is no holiday
    SLIDE_WEEK = "slide_week"  # it and the rest of that week move one day later per holiday
    SKIP = "skip"  # the collection due on the holiday is not made up


class OverrideAction(enum.StrEnum):
    MOVE = "move"
    CANCEL = "cancel"
    ADD = "add"


def week_index(day: date) -> int:
    """Return the number of whole weeks between `WEEK_ZERO` and the week holding `day`."""
    return (day - WEEK_ZERO).days // 7


@dataclass(frozen=True)
class Season:
    """An inclusive (month, day) window; it may wrap over the new year (Dec 15 - Jan 31).

    With `weeks` > 0 the season is counted in weeks instead: it runs for `weeks` weeks from
    the first Monday on or after `start` in each year ("the first four weeks of January",
    "forty weeks from the second week of March"), so a year whose weeks fall a few days
    earlier or later gets the same number of collections; `end` is then ignored.
    """

    start: tuple[int, int] = (1, 1)
    end: tuple[int, int] = (12, 31)
    weeks: int = 0

    def contains(self, day: date) -> bool:
        if self.weeks:
            first = date(day.year, *self.start)
            anchor = first + timedelta(days=-first.weekday() % 7)
            monday = day - timedelta(days=day.weekday())
            return anchor <= monday < anchor + timedelta(weeks=self.weeks)
        key = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= key <= self.end
        return key >= self.start or key <= self.end

    @property
    def all_year(self) -> bool:
        return not self.weeks and self.start == (1, 1) and self.end == (12, 31)


@dataclass(frozen=True)
class Rule:
    """One stream collected in one zone on `weekday` (0 = Monday) every `cycle_weeks`
    weeks, in the weeks whose `week_index % cycle_weeks == phase`, within `season`."""

    stream: str
    weekday: int
    cycle_weeks: int = 1
    phase: int = 0
    season: Season = field(default_factory=Season)

    def regular_dates(self, start: date, end: date) -> list[date]:
        """Return the rule's dates in [start, end], before holidays and overrides."""
        first = start + timedelta(days=(self.weekday - start.weekday()) % 7)
        offset = (self.phase - week_index(first)) % self.cycle_weeks
        day = first + timedelta(weeks=offset)
        step = timedelta(weeks=self.cycle_weeks)
        found = []
        while day <= end:
            if self.season.all_year or self.season.contains(day):
                found.append(day)
            day += step
        return found


@dataclass(frozen=True)
class Override:
    """An explicit change to the collection regularly due on `day` (for one stream, or
    every stream when `stream` is empty): moved to `to`, cancelled, or added."""

    day: date
    action: OverrideAction
    stream: str = ""
    to: date | None = None


def holiday_shift(
    day: date, holidays: Mapping[date, str] | frozenset[date], rule: HolidayRule
) -> date:
    """Return the day a collection regularly due on `day` happens under `rule`.

    SLIDE_WEEK: every weekday holiday in the Monday-to-Sunday week on or before `day` moves
    the collection one day later ("a collection on a holiday moves to the next day and the
    rest of that week moves one day later"); if that lands on another holiday it moves on
    again. Two holidays in one week (Christmas and Boxing Day) thus move Friday to Sunday.
    """
    if rule is HolidayRule.COLLECT or rule is HolidayRule.SKIP:  # SKIP: see collections_between
        return day
    if rule is HolidayRule.NEXT_DAY:
        while day in holidays:
            day += ONE_DAY
        return day
    monday = day - timedelta(days=day.weekday())
    shift = sum(1 for n in range(day.weekday() + 1) if monday + timedelta(days=n) in holidays)
    moved = day + timedelta(days=shift)
    while moved in holidays:
        moved += ONE_DAY
    return moved


@dataclass(frozen=True)
class Collection:
    day: date
    streams: tuple[str, ...]
    regular_day: date  # when it would be without holidays and overrides

    @property
    def moved(self) -> bool:
        return self.day != self.regular_day


def collections_between(
    rules: Iterable[Rule],
    start: date,
    end: date,
    *,
    holidays: Mapping[date, str] | frozenset[date] = frozenset(),
    holiday_rule: HolidayRule = HolidayRule.COLLECT,
    overrides: Iterable[Override] = (),
    shift: Callable[[date, str], date | None] | None = None,
) -> list[Collection]:
    """Return the collections of one zone in [start, end], one per day, in date order.

    Overrides win over the holiday rule: they name the regular day and say what happens.
    `shift(regular day, stream)`, when given, replaces `holiday_rule`: it returns the day the
    collection happens or None if it is skipped (a learnt `HolidayPolicy` per holiday).
    `holidays` must cover [start - 14 days, end + 14 days] (`PAD`).
    """
    by_regular: dict[date, dict[str, None]] = {}
    for rule in rules:
        for day in rule.regular_dates(start - PAD, end + PAD):
            by_regular.setdefault(day, {})[rule.stream] = None
    moves: dict[tuple[date, str], Override] = {}
    added: list[Override] = []
    for override in overrides:
        if override.action is OverrideAction.ADD:
            added.append(override)
        else:
            moves[(override.day, override.stream)] = override
    result: dict[date, dict[str, date]] = {}
    for regular, streams in by_regular.items():
        for stream in streams:
            change = moves.get((regular, stream)) or moves.get((regular, ""))
            if change is None:
                if shift is not None:
                    moved = shift(regular, stream)
                    if moved is None:
                        continue
                    day = moved
                elif holiday_rule is HolidayRule.SKIP and regular in holidays:
                    continue
                else:
                    day = holiday_shift(regular, holidays, holiday_rule)
            elif change.action is OverrideAction.CANCEL or change.to is None:
                continue
            else:
                day = change.to
            if start <= day <= end:
                result.setdefault(day, {}).setdefault(stream, regular)
    for override in added:
        if start <= override.day <= end and override.stream:
            result.setdefault(override.day, {}).setdefault(override.stream, override.day)
    return [
        Collection(day=day, streams=tuple(streams), regular_day=min(streams.values()))
        for day, streams in sorted(result.items())
    ]
