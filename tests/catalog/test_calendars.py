"""Tests for working-time arithmetic on a council's business calendar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from townhall.catalog.calendars import WorkingCalendar, closed_days_for

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")

# A local closure (e.g. a staff training day) that is not a public holiday.
TOWN_PICNIC = date(2026, 8, 14)

BOSTON = WorkingCalendar(
    tz=NEW_YORK,
    opens=time(8, 30),
    closes=time(17, 0),
    closed_days=closed_days_for(country="US", subdivision="MA", closures=[TOWN_PICNIC]),
)
# Same hours with federal holidays only, to show the subdivision matters.
FEDERAL_ONLY = WorkingCalendar(
    tz=NEW_YORK,
    opens=time(8, 30),
    closes=time(17, 0),
    closed_days=closed_days_for(country="US", subdivision=None, closures=()),
)
# Open every day, so a window falls on the DST-change Sundays themselves.
BOSTON_EVERY_DAY = WorkingCalendar(
    tz=NEW_YORK, opens=time(8, 30), closes=time(17, 0), workdays=frozenset(range(7))
)
LONDON_COUNCIL = WorkingCalendar(
    tz=LONDON,
    opens=time(9, 0),
    closes=time(17, 0),
    closed_days=closed_days_for(country="GB", subdivision="ENG", closures=()),
)


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK, fold=fold)


def ldn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def assert_same_moment(result: datetime, expected: datetime) -> None:
    # isoformat carries the UTC offset, so this checks local wall time and instant together
    # (plain == ignores fold for datetimes sharing a tzinfo).
    assert result.isoformat() == expected.isoformat()
    assert result.tzinfo is expected.tzinfo


class AlwaysClosed:
    def __contains__(self, day: object) -> bool:
        return True


# --- add_working_time -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "start", "duration", "expected"),
    [
        pytest.param(
            BOSTON, ny(2026, 2, 10, 9), timedelta(hours=2), ny(2026, 2, 10, 11), id="within-day"
        ),
        pytest.param(
            BOSTON,
            ny(2026, 2, 10, 16),
            timedelta(hours=2),
            ny(2026, 2, 11, 9, 30),
            id="rolls-over-night",
        ),
        pytest.param(
            BOSTON,
            ny(2026, 2, 6, 16),
            timedelta(hours=2),
            ny(2026, 2, 9, 9, 30),
            id="rolls-over-weekend",
        ),
        pytest.param(
            BOSTON,
            ny(2026, 2, 10, 7),
            timedelta(hours=1),
            ny(2026, 2, 10, 9, 30),
            id="starts-before-opening",
        ),
        pytest.param(
            BOSTON,
            ny(2026, 2, 10, 18),
            timedelta(hours=1),
            ny(2026, 2, 11, 9, 30),
            id="starts-after-closing",
        ),
        pytest.param(
            BOSTON,
            ny(2026, 2, 7, 12),
            timedelta(hours=1),
            ny(2026, 2, 9, 9, 30),
            id="starts-on-weekend",
        ),
        pytest.param(
            BOSTON,
            ny(2026, 2, 10, 15),
            timedelta(hours=2),
            ny(2026, 2, 10, 17),
            id="lands-exactly-on-closing",
        ),
        pytest.param(
            BOSTON,
            ny(2026, 2, 10, 7),
            timedelta(hours=8, minutes=30),
            ny(2026, 2, 10, 17),
            id="full-day-from-before-opening-ends-at-closing",
        ),
        pytest.param(
            BOSTON,
            ny(2026, 2, 9, 8, 30),
            timedelta(hours=42, minutes=30),
            ny(2026, 2, 13, 17),
            id="five-full-days-end-friday-closing",
        ),
        pytest.param(
            BOSTON,
            ny(2026, 2, 13, 16),
            timedelta(hours=2),
            ny(2026, 2, 17, 9, 30),
            id="skips-presidents-day",
        ),
        pytest.param(
            BOSTON,
            ny(2026, 11, 25, 16),
            timedelta(hours=2),
            ny(2026, 11, 27, 9, 30),
            id="skips-thanksgiving",
        ),
        pytest.param(
            BOSTON,
            ny(2026, 12, 24, 16),
            timedelta(hours=2),
            ny(2026, 12, 28, 9, 30),
            id="skips-christmas-and-weekend",
        ),
        pytest.param(
            BOSTON,
            ny(2026, 4, 17, 16),
            timedelta(hours=2),
            ny(2026, 4, 21, 9, 30),
            id="skips-patriots-day-in-ma",
        ),
        pytest.param(
            FEDERAL_ONLY,
            ny(2026, 4, 17, 16),
            timedelta(hours=2),
            ny(2026, 4, 20, 9, 30),
            id="patriots-day-is-worked-without-subdivision",
        ),
        pytest.param(
            BOSTON,
            ny(2026, 8, 13, 16),
            timedelta(hours=2),
            ny(2026, 8, 17, 9, 30),
            id="skips-local-closure",
        ),
        pytest.param(
            BOSTON,
            ny(2026, 3, 6, 16),
            timedelta(hours=2),
            ny(2026, 3, 9, 9, 30),
            id="us-spring-forward-weekend",
        ),
        pytest.param(
            BOSTON,
            ny(2026, 10, 30, 16),
            timedelta(hours=2),
            ny(2026, 11, 2, 9, 30),
            id="us-fall-back-weekend",
        ),
        pytest.param(
            BOSTON_EVERY_DAY,
            ny(2026, 3, 7, 16),
            timedelta(hours=9, minutes=30),
            ny(2026, 3, 8, 17),
            id="us-spring-forward-sunday-is-8h30",
        ),
        pytest.param(
            BOSTON_EVERY_DAY,
            ny(2026, 10, 31, 16),
            timedelta(hours=9, minutes=30),
            ny(2026, 11, 1, 17),
            id="us-fall-back-sunday-is-8h30",
        ),
        pytest.param(
            LONDON_COUNCIL,
            ldn(2026, 3, 27, 16),
            timedelta(hours=2),
            ldn(2026, 3, 30, 10),
            id="uk-spring-forward-weekend",
        ),
        pytest.param(
            LONDON_COUNCIL,
            ldn(2026, 10, 23, 16),
            timedelta(hours=2),
            ldn(2026, 10, 26, 10),
            id="uk-fall-back-weekend",
        ),
        pytest.param(
            BOSTON,
            datetime(2026, 2, 10, 14, tzinfo=UTC),
            timedelta(hours=1),
            ny(2026, 2, 10, 10),
            id="start-in-utc-result-in-local-zone",
        ),
        pytest.param(
            BOSTON,
            ny(2026, 2, 7, 12),
            timedelta(0),
            ny(2026, 2, 7, 12),
            id="zero-duration-returns-start-even-outside-hours",
        ),
    ],
)
def test_add_working_time_returns_moment_after_counting_only_open_hours(
    calendar: WorkingCalendar, start: datetime, duration: timedelta, expected: datetime
) -> None:
    # Given a council calendar, when adding working time to a start moment
    result = calendar.add_working_time(start, duration)
    # Then the result is the expected local moment
    assert_same_moment(result, expected)


# --- working_time_between -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "start", "end", "expected"),
    [
        pytest.param(
            BOSTON, ny(2026, 2, 10, 9), ny(2026, 2, 10, 11), timedelta(hours=2), id="same-day"
        ),
        pytest.param(
            BOSTON,
            ny(2026, 2, 10, 11),
            ny(2026, 2, 10, 9),
            timedelta(0),
            id="end-before-start-is-zero",
        ),
        pytest.param(
            BOSTON,
            ny(2026, 2, 6, 16),
            ny(2026, 2, 9, 9, 30),
            timedelta(hours=2),
            id="across-weekend",
        ),
        pytest.param(
            BOSTON, ny(2026, 2, 7, 0), ny(2026, 2, 8, 23), timedelta(0), id="weekend-only-is-zero"
        ),
        pytest.param(
            BOSTON,
            ny(2026, 11, 25, 8, 30),
            ny(2026, 11, 27, 17),
            timedelta(hours=17),
            id="across-thanksgiving",
        ),
        pytest.param(
            BOSTON,
            ny(2026, 10, 30, 8, 30),
            ny(2026, 11, 2, 17),
            timedelta(hours=17),
            id="across-us-fall-back",
        ),
        pytest.param(
            BOSTON_EVERY_DAY,
            ny(2026, 3, 8, 0),
            ny(2026, 3, 9, 0),
            timedelta(hours=8, minutes=30),
            id="us-spring-forward-sunday-has-8h30",
        ),
        pytest.param(
            LONDON_COUNCIL,
            ldn(2026, 3, 27, 9),
            ldn(2026, 3, 30, 17),
            timedelta(hours=16),
            id="across-uk-spring-forward",
        ),
        pytest.param(
            BOSTON,
            datetime(2026, 2, 10, 14, tzinfo=UTC),
            ny(2026, 2, 10, 12),
            timedelta(hours=3),
            id="mixed-time-zones",
        ),
    ],
)
def test_working_time_between_counts_only_open_hours(
    calendar: WorkingCalendar, start: datetime, end: datetime, expected: timedelta
) -> None:
    # Given two moments, when measuring working time between them, then only open hours count
    assert calendar.working_time_between(start, end) == expected


# --- next_working_moment / is_working_day / working_window ----------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param(ny(2026, 2, 10, 12), ny(2026, 2, 10, 12), id="inside-window-is-itself"),
        pytest.param(ny(2026, 2, 10, 8, 30), ny(2026, 2, 10, 8, 30), id="at-opening-is-itself"),
        pytest.param(ny(2026, 2, 10, 17), ny(2026, 2, 11, 8, 30), id="at-closing-is-next-opening"),
        pytest.param(ny(2026, 2, 10, 6), ny(2026, 2, 10, 8, 30), id="before-opening-is-opening"),
        pytest.param(
            ny(2026, 2, 6, 20), ny(2026, 2, 9, 8, 30), id="friday-evening-is-monday-opening"
        ),
        pytest.param(ny(2026, 11, 26, 10), ny(2026, 11, 27, 8, 30), id="thanksgiving-is-next-day"),
        pytest.param(
            datetime(2026, 2, 10, 17, tzinfo=UTC),
            ny(2026, 2, 10, 12),
            id="utc-input-converted-to-local",
        ),
    ],
)
def test_next_working_moment_is_moment_if_open_else_next_opening(
    moment: datetime, expected: datetime
) -> None:
    # Given the Boston calendar, when asking for the next working moment
    assert_same_moment(BOSTON.next_working_moment(moment), expected)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2026, 2, 10), True, id="ordinary-tuesday"),
        pytest.param(date(2026, 2, 7), False, id="saturday"),
        pytest.param(date(2026, 11, 26), False, id="thanksgiving"),
        pytest.param(date(2026, 12, 25), False, id="christmas"),
        pytest.param(date(2026, 4, 20), False, id="patriots-day"),
        pytest.param(TOWN_PICNIC, False, id="local-closure"),
    ],
)
def test_is_working_day_excludes_weekends_holidays_and_closures(day: date, expected: bool) -> None:
    # Given the Boston calendar, when checking a date, then closed days are not working days
    assert BOSTON.is_working_day(day) is expected
    assert (BOSTON.working_window(day) is not None) is expected


@pytest.mark.parametrize(
    ("calendar", "day"),
    [
        pytest.param(BOSTON_EVERY_DAY, date(2026, 3, 8), id="us-spring-forward"),
        pytest.param(BOSTON_EVERY_DAY, date(2026, 11, 1), id="us-fall-back"),
    ],
)
def test_working_window_keeps_local_hours_on_dst_change_day(
    calendar: WorkingCalendar, day: date
) -> None:
    # Given a DST-change day, when building its window
    window = calendar.working_window(day)
    # Then it spans 08:30-17:00 local, which is 8.5 real hours
    assert window is not None
    opening, closing = window
    assert (opening.time(), closing.time()) == (time(8, 30), time(17, 0))
    assert closing.astimezone(UTC) - opening.astimezone(UTC) == timedelta(hours=8, minutes=30)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2026, 11, 26), True, id="public-holiday"),
        pytest.param(TOWN_PICNIC, True, id="local-closure"),
        pytest.param(datetime(2026, 8, 14, 12, tzinfo=UTC), True, id="datetime-on-closure"),
        pytest.param(date(2026, 2, 10), False, id="ordinary-day"),
        pytest.param("not a date", False, id="non-date"),
    ],
)
def test_closed_days_for_contains_holidays_and_closures(day: object, expected: bool) -> None:
    # Given MA holidays plus one closure, when testing membership
    closed = closed_days_for(country="US", subdivision="MA", closures=[TOWN_PICNIC])
    assert (day in closed) is expected


# --- error cases ----------------------------------------------------------------------------

NAIVE = datetime(2026, 2, 10, 9)
WEEKDAYS = frozenset({0, 1, 2, 3, 4})
AWARE = ny(2026, 2, 10, 9)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda: BOSTON.add_working_time(NAIVE, timedelta(hours=1)), id="add-naive-start"
        ),
        pytest.param(lambda: BOSTON.working_time_between(NAIVE, AWARE), id="between-naive-start"),
        pytest.param(lambda: BOSTON.working_time_between(AWARE, NAIVE), id="between-naive-end"),
        pytest.param(lambda: BOSTON.next_working_moment(NAIVE), id="next-naive"),
    ],
)
def test_naive_datetimes_are_rejected(call: Callable[[], object]) -> None:
    # Given a naive datetime, when used in calendar arithmetic, then ValueError explains why
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


@pytest.mark.parametrize(
    ("opens", "closes", "workdays", "message"),
    [
        pytest.param(
            time(17), time(8, 30), WEEKDAYS, "earlier than closes", id="opens-after-closes"
        ),
        pytest.param(time(9), time(9), WEEKDAYS, "earlier than closes", id="opens-equals-closes"),
        pytest.param(time(8, 30), time(17), frozenset(), "at least one weekday", id="no-workdays"),
        pytest.param(time(8, 30), time(17), frozenset({7}), "0-6", id="workday-out-of-range"),
        pytest.param(time(9, tzinfo=UTC), time(17), WEEKDAYS, "naive local times", id="aware-time"),
    ],
)
def test_invalid_calendar_is_rejected(
    opens: time, closes: time, workdays: frozenset[int], message: str
) -> None:
    # Given inconsistent settings, when building a calendar, then ValueError is raised
    with pytest.raises(ValueError, match=message):
        WorkingCalendar(tz=NEW_YORK, opens=opens, closes=closes, workdays=workdays)


def test_negative_duration_is_rejected() -> None:
    # Given a negative duration, when adding it, then ValueError is raised
    with pytest.raises(ValueError, match="must not be negative"):
        BOSTON.add_working_time(AWARE, timedelta(hours=-1))


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda cal: cal.add_working_time(AWARE, timedelta(hours=1)), id="add"),
        pytest.param(lambda cal: cal.next_working_moment(AWARE), id="next"),
    ],
)
def test_calendar_without_working_days_raises_instead_of_looping(
    call: Callable[[WorkingCalendar], object],
) -> None:
    # Given a calendar that is closed every day, when searching for working time
    never_open = WorkingCalendar(
        tz=NEW_YORK, opens=time(8, 30), closes=time(17), closed_days=AlwaysClosed()
    )
    # Then the search gives up with a clear error
    with pytest.raises(ValueError, match="no working day within 3660 days"):
        call(never_open)


# --- property: working_time_between inverts add_working_time --------------------------------


@settings(max_examples=100, deadline=None, database=None)
@given(
    start=st.datetimes(
        min_value=datetime(2024, 1, 1),
        max_value=datetime(2030, 12, 31),
        timezones=st.sampled_from([NEW_YORK, LONDON, UTC]),
    ),
    duration=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=200)),
)
def test_working_time_between_inverts_add_working_time(
    start: datetime, duration: timedelta
) -> None:
    # Given any aware start and duration, when adding working time and measuring it back
    end = BOSTON.add_working_time(start, duration)
    measured = BOSTON.working_time_between(BOSTON.next_working_moment(start), end)
    # Then the measured working time is the duration added
    assert measured == duration
