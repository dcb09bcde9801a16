"""Service-level-agreement clock for cases: due dates, pausing and resuming.

Pure Python: no Django imports, so the rules can be tested without a database.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar, NamedTuple

from townhall.catalog.calendars import WorkingCalendar, require_aware

_ZERO = timedelta(0)


class SlaError(ValueError):
    """An SLA operation was attempted in a state that does not allow it."""

    code: ClassVar[str] = "sla.invalid_state"


class SlaClock(enum.StrEnum):
    """How time is counted against an SLA target."""

    ELAPSED = "elapsed"
    BUSINESS = "business"


@dataclass(frozen=True)
class SlaTarget:
    """How long a case may take, measured on a given clock."""

    target: timedelta
    clock: SlaClock

    def __post_init__(self) -> None:
        """Reject non-positive targets."""
        if self.target <= _ZERO:
            raise ValueError(f"SLA target must be positive, got {self.target}")


@dataclass(frozen=True)
class SlaState:
    """A running clock (`due_at` set), a paused one (`paused_remaining` set), or no clock yet."""

    due_at: datetime | None
    paused_remaining: timedelta | None

    def __post_init__(self) -> None:
        """Reject states that claim to be running and paused at once."""
        # Both None is allowed: callers rebuild states from stored columns, and a case received
        # before its service had an SLA has neither; pause/resume then refuse it explicitly.
        if self.due_at is not None and self.paused_remaining is not None:
            raise SlaError("an SLA state cannot have both due_at and paused_remaining set")
        if self.due_at is not None:
            require_aware(self.due_at, "due_at")


def _shift_elapsed(moment: datetime, delta: timedelta, calendar: WorkingCalendar) -> datetime:
    # Adding in UTC keeps elapsed durations absolute; adding to a local datetime would add
    # wall-clock time and be an hour off across a DST change.
    return (moment.astimezone(UTC) + delta).astimezone(calendar.tz)


def _remaining(
    *, due: datetime, now: datetime, target: SlaTarget, calendar: WorkingCalendar
) -> timedelta:
    if now.astimezone(UTC) >= due.astimezone(UTC):
        # Overdue time is reported in real time even on the business clock: measured in working
        # hours it would be zero on a weekend, and a breached case must never show time left.
        return due.astimezone(UTC) - now.astimezone(UTC)
    if target.clock is SlaClock.BUSINESS:
        return calendar.working_time_between(now, due)
    return due.astimezone(UTC) - now.astimezone(UTC)


def due_at(*, received_at: datetime, target: SlaTarget, calendar: WorkingCalendar) -> datetime:
    """Return the moment a case received at `received_at` breaches `target`."""
    require_aware(received_at, "received_at")
    if target.clock is SlaClock.BUSINESS:
        return calendar.add_working_time(received_at, target.target)
    return _shift_elapsed(received_at, target.target, calendar)


def sla_start(*, received_at: datetime, target: SlaTarget, calendar: WorkingCalendar) -> SlaState:
    """Start the SLA clock for a case received at `received_at`."""
    return SlaState(
        due_at=due_at(received_at=received_at, target=target, calendar=calendar),
        paused_remaining=None,
    )


def sla_pause(
    *, state: SlaState, now: datetime, target: SlaTarget, calendar: WorkingCalendar
) -> SlaState:
    """Pause a running SLA clock, keeping the time left (negative if already breached)."""
    require_aware(now, "now")
    if state.paused_remaining is not None:
        raise SlaError("cannot pause an SLA clock that is already paused")
    if state.due_at is None:
        raise SlaError("cannot pause an SLA clock that was never started")
    remaining = _remaining(due=state.due_at, now=now, target=target, calendar=calendar)
    return SlaState(due_at=None, paused_remaining=remaining)


def sla_resume(
    *, state: SlaState, now: datetime, target: SlaTarget, calendar: WorkingCalendar
) -> SlaState:
    """Resume a paused SLA clock, moving the due date by the time spent paused."""
    require_aware(now, "now")
    if state.due_at is not None:
        raise SlaError("cannot resume an SLA clock that is running")
    if state.paused_remaining is None:
        raise SlaError("cannot resume an SLA clock that was never started")
    remaining = state.paused_remaining
    if target.clock is SlaClock.BUSINESS and remaining > _ZERO:
        due = calendar.add_working_time(now, remaining)
    else:
        # A non-positive remainder puts the due date in the past, so the case stays breached.
        due = _shift_elapsed(now, remaining, calendar)
    return SlaState(due_at=due, paused_remaining=None)


def sla_is_breached(*, state: SlaState, now: datetime) -> bool:
    """Return True if a running clock's due moment has passed."""
    require_aware(now, "now")
    if state.due_at is None:
        return False
    # Compare in UTC: same-tzinfo comparisons use wall time and misorder moments in a DST fold.
    return now.astimezone(UTC) > state.due_at.astimezone(UTC)


def sla_time_left(
    *, state: SlaState, now: datetime, target: SlaTarget, calendar: WorkingCalendar
) -> timedelta:
    """Return the time left before breach on the target's clock (negative when overdue)."""
    require_aware(now, "now")
    if state.paused_remaining is not None:
        return state.paused_remaining
    if state.due_at is None:
        raise SlaError("an SLA clock that was never started has no time left")
    return _remaining(due=state.due_at, now=now, target=target, calendar=calendar)


class CaseSla(NamedTuple):
    """The SLA one case is held to: its service's target at the case's priority, counted on
    its department's working calendar. `None` stands for "no SLA" wherever one is looked up.
    """

    target: SlaTarget
    calendar: WorkingCalendar

    def start(self, received_at: datetime) -> SlaState:
        """Start the clock for a case received at `received_at` (see `sla_start`)."""
        return sla_start(received_at=received_at, target=self.target, calendar=self.calendar)

    def pause(self, state: SlaState, now: datetime) -> SlaState:
        """Pause a running clock at `now` (see `sla_pause`)."""
        return sla_pause(state=state, now=now, target=self.target, calendar=self.calendar)

    def resume(self, state: SlaState, now: datetime) -> SlaState:
        """Resume a paused clock at `now` (see `sla_resume`)."""
        return sla_resume(state=state, now=now, target=self.target, calendar=self.calendar)
