"""Tests for the pure SLA clock: due dates, pausing, resuming and breach detection."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from townhall.cases.sla import (
    SlaClock,
    SlaError,
    SlaState,
    SlaTarget,
    due_at,
    sla_is_breached,
    sla_pause,
    sla_resume,
    sla_start,
    sla_time_left,
)
from townhall.catalog.calendars import WorkingCalendar, closed_days_for

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")

BOSTON = WorkingCalendar(
    tz=NEW_YORK,
    opens=time(8, 30),
    closes=time(17, 0),
    closed_days=closed_days_for(country="US", subdivision="MA", closures=()),
)
LONDON_COUNCIL = WorkingCalendar(
    tz=LONDON,
    opens=time(9, 0),
    closes=time(17, 0),
    closed_days=closed_days_for(country="GB", subdivision="ENG", closures=()),
)

BUSINESS = SlaClock.BUSINESS
ELAPSED = SlaClock.ELAPSED


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK, fold=fold)


def ldn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


def assert_same_moment(result: datetime | None, expected: datetime) -> None:
    # isoformat carries the UTC offset, so this checks local wall time and instant together
    # (plain == ignores fold for datetimes sharing a tzinfo).
    assert result is not None
    assert result.isoformat() == expected.isoformat()
    assert result.tzinfo is expected.tzinfo


# --- due_at ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "clock", "target", "received", "expected"),
    [
        pytest.param(
            BOSTON,
            BUSINESS,
            hours(2),
            ny(2026, 2, 9, 9),
            ny(2026, 2, 9, 11),
            id="business-within-day",
        ),
        pytest.param(
            BOSTON,
            BUSINESS,
            hours(4),
            ny(2026, 2, 6, 15),
            ny(2026, 2, 9, 10, 30),
            id="business-over-weekend",
        ),
        pytest.param(
            BOSTON,
            BUSINESS,
            hours(8.5),
            ny(2026, 11, 25, 12),
            ny(2026, 11, 27, 12),
            id="business-skips-thanksgiving",
        ),
        pytest.param(
            BOSTON,
            BUSINESS,
            hours(17),
            ny(2026, 3, 6, 16),
            ny(2026, 3, 10, 16),
            id="business-us-spring-forward-unaffected",
        ),
        pytest.param(
            BOSTON,
            BUSINESS,
            hours(17),
            ny(2026, 10, 30, 16),
            ny(2026, 11, 3, 16),
            id="business-us-fall-back-unaffected",
        ),
        pytest.param(
            LONDON_COUNCIL,
            BUSINESS,
            hours(9),
            ldn(2026, 3, 27, 16),
            ldn(2026, 3, 30, 17),
            id="business-uk-spring-forward-unaffected",
        ),
        pytest.param(
            LONDON_COUNCIL,
            BUSINESS,
            hours(2),
            ldn(2026, 10, 23, 16),
            ldn(2026, 10, 26, 10),
            id="business-uk-fall-back-unaffected",
        ),
        pytest.param(
            BOSTON,
            ELAPSED,
            hours(48),
            ny(2026, 10, 31, 12),
            ny(2026, 11, 2, 11),
            id="elapsed-us-fall-back-48-real-hours",
        ),
        pytest.param(
            BOSTON,
            ELAPSED,
            hours(48),
            ny(2026, 3, 7, 12),
            ny(2026, 3, 9, 13),
            id="elapsed-us-spring-forward-48-real-hours",
        ),
        pytest.param(
            LONDON_COUNCIL,
            ELAPSED,
            hours(48),
            ldn(2026, 10, 24, 12),
            ldn(2026, 10, 26, 11),
            id="elapsed-uk-fall-back-48-real-hours",
        ),
        pytest.param(
            LONDON_COUNCIL,
            ELAPSED,
            hours(48),
            ldn(2026, 3, 28, 12),
            ldn(2026, 3, 30, 13),
            id="elapsed-uk-spring-forward-48-real-hours",
        ),
        pytest.param(
            BOSTON,
            ELAPSED,
            hours(2),
            ny(2026, 11, 1, 0, 30),
            ny(2026, 11, 1, 1, 30, fold=1),
            id="elapsed-lands-in-repeated-hour",
        ),
        pytest.param(
            BOSTON,
            ELAPSED,
            hours(24),
            ny(2026, 11, 25, 12),
            ny(2026, 11, 26, 12),
            id="elapsed-ignores-holidays",
        ),
        pytest.param(
            BOSTON,
            ELAPSED,
            hours(1),
            datetime(2026, 2, 9, 14, tzinfo=UTC),
            ny(2026, 2, 9, 10),
            id="elapsed-result-in-local-zone",
        ),
    ],
)
def test_due_at_counts_target_on_its_clock(
    calendar: WorkingCalendar,
    clock: SlaClock,
    target: timedelta,
    received: datetime,
    expected: datetime,
) -> None:
    # Given a case received at a moment with a target on some clock
    sla_target = SlaTarget(target=target, clock=clock)
    # When computing its due date
    result = due_at(received_at=received, target=sla_target, calendar=calendar)
    # Then it is the expected local moment, and starting the clock agrees
    assert_same_moment(result, expected)
    state = sla_start(received_at=received, target=sla_target, calendar=calendar)
    assert_same_moment(state.due_at, expected)
    assert state.paused_remaining is None


@pytest.mark.parametrize(
    ("calendar", "received", "wall_clock_shift"),
    [
        pytest.param(BOSTON, ny(2026, 10, 31, 12), hours(-1), id="us-fall-back"),
        pytest.param(BOSTON, ny(2026, 3, 7, 12), hours(1), id="us-spring-forward"),
        pytest.param(LONDON_COUNCIL, ldn(2026, 10, 24, 12), hours(-1), id="uk-fall-back"),
        pytest.param(LONDON_COUNCIL, ldn(2026, 3, 28, 12), hours(1), id="uk-spring-forward"),
    ],
)
def test_elapsed_clock_differs_from_naive_wall_clock_arithmetic_across_dst(
    calendar: WorkingCalendar, received: datetime, wall_clock_shift: timedelta
) -> None:
    # Given a 48h elapsed target received the day before a DST change
    target = SlaTarget(target=hours(48), clock=ELAPSED)
    # When computing its due date
    result = due_at(received_at=received, target=target, calendar=calendar)
    # Then 48 real hours pass, so local wall time differs from naive arithmetic by the DST shift
    naive_guess = received.replace(tzinfo=None) + hours(48)
    assert result.replace(tzinfo=None) - naive_guess == wall_clock_shift
    assert result.astimezone(UTC) - received.astimezone(UTC) == hours(48)


# --- pause / resume -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "received", "paused_at", "resumed_at", "expected_due"),
    [
        pytest.param(
            hours(17),
            ny(2026, 2, 9, 9),
            ny(2026, 2, 9, 13),
            ny(2026, 2, 10, 13),
            ny(2026, 2, 12, 9),
            id="paused-one-working-day",
        ),
        pytest.param(
            hours(8.5),
            ny(2026, 2, 6, 9),
            ny(2026, 2, 6, 16),
            ny(2026, 2, 9, 8, 30),
            ny(2026, 2, 9, 10),
            id="paused-over-weekend-loses-only-friday-hour",
        ),
        pytest.param(
            hours(8.5),
            ny(2026, 2, 6, 9),
            ny(2026, 2, 7, 10),
            ny(2026, 2, 8, 20),
            ny(2026, 2, 9, 9),
            id="paused-only-on-weekend-keeps-due-date",
        ),
        pytest.param(
            hours(8.5),
            ny(2026, 11, 25, 9),
            ny(2026, 11, 25, 12),
            ny(2026, 11, 27, 12),
            ny(2026, 11, 30, 9),
            id="paused-across-thanksgiving",
        ),
        pytest.param(
            hours(8.5),
            ny(2026, 10, 30, 9),
            ny(2026, 10, 30, 12),
            ny(2026, 11, 2, 8, 30),
            ny(2026, 11, 2, 14),
            id="paused-across-us-fall-back",
        ),
    ],
)
def test_business_pause_resume_extends_due_by_paused_working_time(
    target: timedelta,
    received: datetime,
    paused_at: datetime,
    resumed_at: datetime,
    expected_due: datetime,
) -> None:
    # Given a running business-hours SLA
    sla_target = SlaTarget(target=target, clock=BUSINESS)
    running = sla_start(received_at=received, target=sla_target, calendar=BOSTON)
    # When it is paused and later resumed
    paused = sla_pause(state=running, now=paused_at, target=sla_target, calendar=BOSTON)
    resumed = sla_resume(state=paused, now=resumed_at, target=sla_target, calendar=BOSTON)
    # Then the due date moves by exactly the working time spent paused
    assert paused.due_at is None
    assert_same_moment(resumed.due_at, expected_due)
    assert running.due_at is not None
    assert resumed.due_at is not None
    assert BOSTON.working_time_between(
        running.due_at, resumed.due_at
    ) == BOSTON.working_time_between(paused_at, resumed_at)


@pytest.mark.parametrize(
    ("calendar", "received", "paused_at", "resumed_at", "expected_due"),
    [
        pytest.param(
            BOSTON,
            ny(2026, 2, 6, 9),
            ny(2026, 2, 6, 17),
            ny(2026, 2, 9, 8),
            ny(2026, 2, 12, 0),
            id="paused-over-weekend",
        ),
        pytest.param(
            BOSTON,
            ny(2026, 10, 30, 12),
            ny(2026, 10, 31, 12),
            ny(2026, 11, 1, 12),
            ny(2026, 11, 3, 12),
            id="paused-across-us-fall-back",
        ),
        pytest.param(
            LONDON_COUNCIL,
            ldn(2026, 3, 27, 12),
            ldn(2026, 3, 28, 12),
            ldn(2026, 3, 29, 12),
            ldn(2026, 3, 31, 12),
            id="paused-across-uk-spring-forward",
        ),
    ],
)
def test_elapsed_pause_resume_extends_due_by_real_time_paused(
    calendar: WorkingCalendar,
    received: datetime,
    paused_at: datetime,
    resumed_at: datetime,
    expected_due: datetime,
) -> None:
    # Given a running 72h wall-clock SLA
    sla_target = SlaTarget(target=hours(72), clock=ELAPSED)
    running = sla_start(received_at=received, target=sla_target, calendar=calendar)
    # When it is paused and later resumed
    paused = sla_pause(state=running, now=paused_at, target=sla_target, calendar=calendar)
    resumed = sla_resume(state=paused, now=resumed_at, target=sla_target, calendar=calendar)
    # Then the due date moves by exactly the real time spent paused
    assert_same_moment(resumed.due_at, expected_due)
    assert running.due_at is not None
    assert resumed.due_at is not None
    assert resumed.due_at.astimezone(UTC) - running.due_at.astimezone(UTC) == (
        resumed_at.astimezone(UTC) - paused_at.astimezone(UTC)
    )


@pytest.mark.parametrize(
    ("clock", "target", "received", "paused_at", "resumed_at", "expected_remaining"),
    [
        pytest.param(
            BUSINESS,
            hours(1),
            ny(2026, 2, 9, 9),
            ny(2026, 2, 9, 12),
            ny(2026, 2, 10, 9),
            hours(-2),
            id="business-overdue-in-hours",
        ),
        pytest.param(
            BUSINESS,
            hours(2),
            ny(2026, 2, 6, 15),
            ny(2026, 2, 7, 10),
            ny(2026, 2, 9, 8),
            hours(-17),
            id="business-overdue-paused-on-weekend",
        ),
        pytest.param(
            ELAPSED,
            hours(1),
            ny(2026, 2, 9, 9),
            ny(2026, 2, 9, 12),
            ny(2026, 2, 10, 9),
            hours(-2),
            id="elapsed-overdue",
        ),
    ],
)
def test_resuming_with_negative_remaining_is_immediately_breached(
    clock: SlaClock,
    target: timedelta,
    received: datetime,
    paused_at: datetime,
    resumed_at: datetime,
    expected_remaining: timedelta,
) -> None:
    # Given an SLA paused after it had already breached
    sla_target = SlaTarget(target=target, clock=clock)
    running = sla_start(received_at=received, target=sla_target, calendar=BOSTON)
    paused = sla_pause(state=running, now=paused_at, target=sla_target, calendar=BOSTON)
    assert paused.paused_remaining == expected_remaining
    assert not sla_is_breached(state=paused, now=paused_at)
    # When it is resumed
    resumed = sla_resume(state=paused, now=resumed_at, target=sla_target, calendar=BOSTON)
    # Then it is breached at the very moment of resuming, by the remembered overdue time
    assert sla_is_breached(state=resumed, now=resumed_at)
    assert resumed.due_at is not None
    assert resumed.due_at.astimezone(UTC) == resumed_at.astimezone(UTC) + expected_remaining


# --- breach and time left -------------------------------------------------------------------

DUE = ny(2026, 2, 9, 10)


@pytest.mark.parametrize(
    ("state", "now", "expected"),
    [
        pytest.param(
            SlaState(due_at=DUE, paused_remaining=None), ny(2026, 2, 9, 9), False, id="before-due"
        ),
        pytest.param(SlaState(due_at=DUE, paused_remaining=None), DUE, False, id="exactly-at-due"),
        pytest.param(
            SlaState(due_at=DUE, paused_remaining=None),
            DUE + timedelta(microseconds=1),
            True,
            id="just-after-due",
        ),
        pytest.param(
            SlaState(due_at=None, paused_remaining=None),
            ny(2026, 2, 9, 12),
            False,
            id="never-started",
        ),
        pytest.param(
            SlaState(due_at=None, paused_remaining=hours(-5)),
            ny(2026, 2, 9, 12),
            False,
            id="paused-even-if-overdue",
        ),
        pytest.param(
            SlaState(due_at=ny(2026, 11, 1, 1, 30), paused_remaining=None),
            ny(2026, 11, 1, 1, 10, fold=1),
            True,
            id="second-pass-of-repeated-hour-is-later",
        ),
        pytest.param(
            SlaState(due_at=ny(2026, 11, 1, 1, 10, fold=1), paused_remaining=None),
            ny(2026, 11, 1, 1, 30),
            False,
            id="first-pass-of-repeated-hour-is-earlier",
        ),
    ],
)
def test_sla_is_breached_only_when_running_and_past_due(
    state: SlaState, now: datetime, expected: bool
) -> None:
    # Given an SLA state, when checking breach at `now`, then only a running, past-due clock is
    assert sla_is_breached(state=state, now=now) is expected


@pytest.mark.parametrize(
    ("clock", "target", "received", "now", "expected"),
    [
        pytest.param(
            BUSINESS,
            hours(17),
            ny(2026, 2, 9, 9),
            ny(2026, 2, 9, 13),
            hours(13),
            id="business-running",
        ),
        pytest.param(
            BUSINESS,
            hours(8.5),
            ny(2026, 2, 6, 9),
            ny(2026, 2, 7, 12),
            hours(0.5),
            id="business-weekend-counts-nothing",
        ),
        pytest.param(
            BUSINESS,
            hours(1),
            ny(2026, 2, 9, 9),
            ny(2026, 2, 9, 12),
            hours(-2),
            id="business-overdue-is-negative",
        ),
        pytest.param(
            BUSINESS,
            hours(2),
            ny(2026, 2, 6, 15),
            ny(2026, 2, 7, 10),
            hours(-17),
            id="business-overdue-on-weekend-is-negative",
        ),
        pytest.param(
            ELAPSED,
            hours(72),
            ny(2026, 2, 9, 9),
            ny(2026, 2, 10, 9),
            hours(48),
            id="elapsed-running",
        ),
        pytest.param(
            ELAPSED,
            hours(48),
            ny(2026, 10, 31, 12),
            ny(2026, 11, 1, 12),
            hours(23),
            id="elapsed-across-fall-back",
        ),
    ],
)
def test_sla_time_left_is_measured_on_the_target_clock(
    clock: SlaClock, target: timedelta, received: datetime, now: datetime, expected: timedelta
) -> None:
    # Given a running SLA
    sla_target = SlaTarget(target=target, clock=clock)
    state = sla_start(received_at=received, target=sla_target, calendar=BOSTON)
    # When asking for the time left, then it is measured on the target's clock
    assert sla_time_left(state=state, now=now, target=sla_target, calendar=BOSTON) == expected


def test_sla_time_left_while_paused_is_the_frozen_remainder() -> None:
    # Given a paused SLA, when asking for time left much later, then the remainder is unchanged
    state = SlaState(due_at=None, paused_remaining=hours(3))
    target = SlaTarget(target=hours(8), clock=BUSINESS)
    later = ny(2026, 6, 1, 12)
    assert sla_time_left(state=state, now=later, target=target, calendar=BOSTON) == hours(3)


# --- error cases ----------------------------------------------------------------------------

NAIVE = datetime(2026, 2, 9, 9)
BUSINESS_8H = SlaTarget(target=hours(8), clock=BUSINESS)
ELAPSED_8H = SlaTarget(target=hours(8), clock=ELAPSED)
RUNNING = SlaState(due_at=DUE, paused_remaining=None)
PAUSED = SlaState(due_at=None, paused_remaining=hours(2))
# Stored cases received before their service had an SLA carry neither field.
NOT_STARTED = SlaState(due_at=None, paused_remaining=None)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda: sla_pause(state=PAUSED, now=DUE, target=BUSINESS_8H, calendar=BOSTON),
            "already paused",
            id="double-pause",
        ),
        pytest.param(
            lambda: sla_resume(state=RUNNING, now=DUE, target=BUSINESS_8H, calendar=BOSTON),
            "running",
            id="resume-while-running",
        ),
        pytest.param(
            lambda: SlaState(due_at=DUE, paused_remaining=hours(1)),
            "both due_at and paused_remaining",
            id="state-both-running-and-paused",
        ),
        pytest.param(
            lambda: sla_pause(state=NOT_STARTED, now=DUE, target=BUSINESS_8H, calendar=BOSTON),
            "never started",
            id="pause-never-started",
        ),
        pytest.param(
            lambda: sla_resume(state=NOT_STARTED, now=DUE, target=BUSINESS_8H, calendar=BOSTON),
            "never started",
            id="resume-never-started",
        ),
        pytest.param(
            lambda: sla_time_left(state=NOT_STARTED, now=DUE, target=BUSINESS_8H, calendar=BOSTON),
            "never started",
            id="time-left-never-started",
        ),
    ],
)
def test_invalid_state_transitions_raise_sla_error(
    call: Callable[[], object], message: str
) -> None:
    # Given an operation not allowed in the current state, when attempted, then SlaError is raised
    with pytest.raises(SlaError, match=message) as excinfo:
        call()
    assert excinfo.value.code == "sla.invalid_state"
    assert isinstance(excinfo.value, ValueError)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda: due_at(received_at=NAIVE, target=BUSINESS_8H, calendar=BOSTON),
            id="due-at-business",
        ),
        pytest.param(
            lambda: due_at(received_at=NAIVE, target=ELAPSED_8H, calendar=BOSTON),
            id="due-at-elapsed",
        ),
        pytest.param(
            lambda: sla_pause(state=RUNNING, now=NAIVE, target=BUSINESS_8H, calendar=BOSTON),
            id="pause",
        ),
        pytest.param(
            lambda: sla_resume(state=PAUSED, now=NAIVE, target=BUSINESS_8H, calendar=BOSTON),
            id="resume",
        ),
        pytest.param(lambda: sla_is_breached(state=RUNNING, now=NAIVE), id="is-breached"),
        pytest.param(
            lambda: sla_time_left(state=RUNNING, now=NAIVE, target=ELAPSED_8H, calendar=BOSTON),
            id="time-left",
        ),
        pytest.param(lambda: SlaState(due_at=NAIVE, paused_remaining=None), id="state-due-at"),
    ],
)
def test_naive_datetimes_are_rejected(call: Callable[[], object]) -> None:
    # Given a naive datetime, when passed to the SLA clock, then ValueError explains why
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


@pytest.mark.parametrize("target", [timedelta(0), hours(-1)], ids=["zero", "negative"])
def test_non_positive_target_is_rejected(target: timedelta) -> None:
    # Given a target that is not positive, when building it, then ValueError is raised
    with pytest.raises(ValueError, match="must be positive"):
        SlaTarget(target=target, clock=BUSINESS)
