"""The pure schedule: cycles, phases, seasons, holiday rules and overrides (no database)."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from townhall.waste.public_holidays import public_holidays
from townhall.waste.schedule import (
    HolidayRule,
    Override,
    OverrideAction,
    Rule,
    Season,
    collections_between,
    holiday_shift,
    week_index,
)

JAN = (date(2025, 1, 1), date(2025, 1, 31))


def days(rules: list[Rule], start: date, end: date, **kwargs: object) -> list[date]:
    return [c.day for c in collections_between(rules, start, end, **kwargs)]  # type: ignore[arg-type]


def test_a_weekly_rule_gives_every_tuesday() -> None:
    assert days([Rule("garbage", weekday=1)], *JAN) == [
        date(2025, 1, 7),
        date(2025, 1, 14),
        date(2025, 1, 21),
        date(2025, 1, 28),
    ]


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        (week_index(date(2025, 1, 7)) % 2, [date(2025, 1, 7), date(2025, 1, 21)]),
        ((week_index(date(2025, 1, 7)) + 1) % 2, [date(2025, 1, 14), date(2025, 1, 28)]),
    ],
)
def test_alternate_weeks_follow_their_phase(phase: int, expected: list[date]) -> None:
    assert days([Rule("recycling", weekday=1, cycle_weeks=2, phase=phase)], *JAN) == expected


def test_alternate_weeks_stay_alternate_over_a_53_week_year() -> None:
    # 2020 has 53 ISO weeks; ISO week parity would put two collections a week apart here.
    rule = Rule("garbage", weekday=3, cycle_weeks=2, phase=week_index(date(2020, 12, 24)) % 2)
    found = days([rule], date(2020, 12, 1), date(2021, 1, 31))
    gaps = {(b - a).days for a, b in itertools.pairwise(found)}
    assert gaps == {14} and date(2020, 12, 24) in found and date(2021, 1, 7) in found


@pytest.mark.parametrize(
    ("season", "day", "inside"),
    [
        (Season((4, 1), (11, 30)), date(2025, 3, 31), False),
        (Season((4, 1), (11, 30)), date(2025, 4, 1), True),
        (Season((4, 1), (11, 30)), date(2025, 11, 30), True),
        (Season((4, 1), (11, 30)), date(2025, 12, 1), False),
        (Season((12, 15), (1, 31)), date(2025, 12, 20), True),  # over the new year
        (Season((12, 15), (1, 31)), date(2026, 1, 10), True),
        (Season((12, 15), (1, 31)), date(2026, 2, 1), False),
    ],
)
def test_a_season_bounds_the_collections(season: Season, day: date, inside: bool) -> None:
    assert season.contains(day) is inside


def test_garden_waste_runs_april_to_november() -> None:
    rule = Rule("garden", weekday=0, season=Season((4, 1), (11, 30)))
    found = days([rule], date(2025, 1, 1), date(2025, 12, 31))
    assert found[0] == date(2025, 4, 7) and found[-1] == date(2025, 11, 24)


# Christmas Day 2025 is a Thursday, Boxing Day (a holiday in Ontario) a Friday.
XMAS_2025 = {date(2025, 12, 25): "Christmas Day", date(2025, 12, 26): "Boxing Day"}


@pytest.mark.parametrize(
    ("rule", "regular", "expected"),
    [
        (HolidayRule.COLLECT, date(2025, 12, 25), date(2025, 12, 25)),
        (HolidayRule.NEXT_DAY, date(2025, 12, 25), date(2025, 12, 27)),  # over Boxing Day too
        (HolidayRule.NEXT_DAY, date(2025, 12, 24), date(2025, 12, 24)),
        (HolidayRule.SLIDE_WEEK, date(2025, 12, 24), date(2025, 12, 24)),  # before: unmoved
        (HolidayRule.SLIDE_WEEK, date(2025, 12, 25), date(2025, 12, 27)),  # two holidays
        (HolidayRule.SLIDE_WEEK, date(2025, 12, 26), date(2025, 12, 28)),  # Friday to Sunday
        (HolidayRule.SLIDE_WEEK, date(2025, 12, 22), date(2025, 12, 22)),
    ],
)
def test_holiday_rules(rule: HolidayRule, regular: date, expected: date) -> None:
    assert holiday_shift(regular, XMAS_2025, rule) == expected


def test_the_rest_of_the_week_slides_after_a_single_holiday() -> None:
    # Monday 26 May 2025 (a holiday): Monday to Tuesday ... Friday to Saturday.
    holidays = {date(2025, 5, 26): "Spring bank holiday"}
    rules = [Rule(f"z{n}", weekday=n) for n in range(5)]
    found = collections_between(
        rules,
        date(2025, 5, 26),
        date(2025, 6, 1),
        holidays=holidays,
        holiday_rule=HolidayRule.SLIDE_WEEK,
    )
    assert [(c.day.weekday(), c.streams) for c in found] == [
        (1, ("z0",)),
        (2, ("z1",)),
        (3, ("z2",)),
        (4, ("z3",)),
        (5, ("z4",)),
    ]
    assert all(c.moved for c in found)


def test_a_new_years_day_holiday_moves_january_not_december() -> None:
    # 1 January 2025 is a Wednesday; Tuesday 31 December 2024 stays, the rest slides.
    holidays = public_holidays(country="GB", subdivision="ENG", years=[2024, 2025])
    rules = [Rule("garbage", weekday=1), Rule("recycling", weekday=2), Rule("organics", weekday=4)]
    found = collections_between(
        rules,
        date(2024, 12, 30),
        date(2025, 1, 5),
        holidays=holidays,
        holiday_rule=HolidayRule.SLIDE_WEEK,
    )
    assert [(c.day, c.streams) for c in found] == [
        (date(2024, 12, 31), ("garbage",)),
        (date(2025, 1, 2), ("recycling",)),
        (date(2025, 1, 4), ("organics",)),
    ]


def test_a_collection_moved_over_the_year_end_lands_in_the_new_year() -> None:
    # Christmas week 2026: Friday 25 Dec and Monday 28 Dec (Boxing Day substitute) in England.
    holidays = public_holidays(country="GB", subdivision="ENG", years=[2026, 2027])
    found = days(
        [Rule("garbage", weekday=3)],
        date(2026, 12, 28),
        date(2027, 1, 10),
        holidays=holidays,
        holiday_rule=HolidayRule.SLIDE_WEEK,
    )
    # Thu 31 Dec slides by the Monday holiday to Fri 1 Jan, itself a holiday: Sat 2 Jan.
    assert found == [date(2027, 1, 2), date(2027, 1, 7)]


def test_explicit_overrides_move_cancel_and_add() -> None:
    rules = [Rule("garbage", weekday=1), Rule("recycling", weekday=1)]
    overrides = [
        Override(date(2025, 1, 7), OverrideAction.MOVE, stream="garbage", to=date(2025, 1, 8)),
        Override(date(2025, 1, 14), OverrideAction.CANCEL),  # every stream
        Override(date(2025, 1, 18), OverrideAction.ADD, stream="bulky"),
    ]
    found = collections_between(rules, *JAN, overrides=overrides)
    assert [(c.day, c.streams) for c in found][:4] == [
        (date(2025, 1, 7), ("recycling",)),
        (date(2025, 1, 8), ("garbage",)),
        (date(2025, 1, 18), ("bulky",)),
        (date(2025, 1, 21), ("garbage", "recycling")),
    ]


def test_an_override_wins_over_the_holiday_rule() -> None:
    found = days(
        [Rule("garbage", weekday=3)],
        date(2025, 12, 22),
        date(2025, 12, 31),
        holidays=XMAS_2025,
        holiday_rule=HolidayRule.SLIDE_WEEK,
        overrides=[Override(date(2025, 12, 25), OverrideAction.MOVE, to=date(2025, 12, 29))],
    )
    assert found == [date(2025, 12, 29)]


def test_an_unknown_country_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown country"):
        public_holidays(country="QQ", years=[2025])


def test_holiday_names_select_the_holidays_that_count() -> None:
    found = public_holidays(country="CA", subdivision="ON", years=[2024], names=["Christmas"])
    assert list(found) == [date(2024, 12, 25)]
