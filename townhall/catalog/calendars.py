"""Working-time arithmetic for a council's business calendar.

Pure Python: no Django imports, so the rules can be tested and reused anywhere.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

# A calendar with no working day in ten years is misconfigured; stop rather than loop forever.
MAX_CLOSED_STREAK_DAYS = 3660

_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)


def require_aware(value: datetime, name: str) -> None:
    """Raise ValueError if `value` is a naive datetime."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")


@dataclass(frozen=True)
class ClosedDays:
    """Public holidays of one country/subdivision plus local closure dates."""

    country: str
    subdivision: str | None
    closures: frozenset[date]
    # Excluded from eq/hash: it is derived from country/subdivision and a dict (unhashable).
    _public_holidays: holidays.HolidayBase = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Build the lazily-expanding holiday table for the country/subdivision."""
        object.__setattr__(
            self,
            "_public_holidays",
            holidays.country_holidays(self.country, subdiv=self.subdivision),
        )

    def __contains__(self, day: object) -> bool:
        """Return True if `day` is a public holiday or a local closure."""
        if not isinstance(day, date):
            return False
        if isinstance(day, datetime):
            # datetime never compares equal to date, so frozenset lookups would silently miss.
            day = day.date()
        return day in self.closures or day in self._public_holidays


def closed_days_for(
    *, country: str, subdivision: str | None, closures: Iterable[date]
) -> ClosedDays:
    """Return the days a council is closed: public holidays plus local closures."""
    return ClosedDays(country=country, subdivision=subdivision, closures=frozenset(closures))


@dataclass(frozen=True)
class WorkingCalendar:
    """A council's opening hours, working weekdays and closed days in its local time zone."""

    tz: ZoneInfo
    opens: time
    closes: time
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    closed_days: Container[date] = frozenset()

    def __post_init__(self) -> None:
        """Reject calendars whose hours or workdays cannot describe a working week."""
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opens and closes must be naive local times; the zone is `tz`")
        if not self.opens < self.closes:
            raise ValueError(f"opens ({self.opens}) must be earlier than closes ({self.closes})")
        if not self.workdays:
            raise ValueError("workdays must contain at least one weekday")
        if not self.workdays <= frozenset(range(7)):
            raise ValueError(f"workdays must be weekday numbers 0-6, got {sorted(self.workdays)}")

    def is_working_day(self, day: date) -> bool:
        """Return True if the office opens on the given local date."""
        return day.weekday() in self.workdays and day not in self.closed_days

    def working_window(self, day: date) -> tuple[datetime, datetime] | None:
        """Return the local opening and closing moments of `day`, or None if it is closed."""
        if not self.is_working_day(day):
            return None
        # Combining per day (not adding hours) keeps opening hours fixed in local wall time
        # across DST changes.
        return (
            datetime.combine(day, self.opens, tzinfo=self.tz),
            datetime.combine(day, self.closes, tzinfo=self.tz),
        )

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """Return the moment `duration` of working time after `start`."""
        require_aware(start, "start")
        if duration < _ZERO:
            raise ValueError(f"duration must not be negative, got {duration}")
        if duration == _ZERO:
            return start.astimezone(self.tz)
        cursor = start.astimezone(UTC)
        remaining = duration
        for opening, closing in self._utc_windows_from(self._local_date(start)):
            if closing <= cursor:
                continue
            segment_start = max(cursor, opening)
            available = closing - segment_start
            # `<=` so that work finishing exactly at closing time ends today, not tomorrow.
            if remaining <= available:
                return (segment_start + remaining).astimezone(self.tz)
            remaining -= available
        raise AssertionError("unreachable: _utc_windows_from never ends")  # pragma: no cover

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Return the working time elapsed from `start` to `end` (zero if `end` is not later)."""
        require_aware(start, "start")
        require_aware(end, "end")
        start_utc = start.astimezone(UTC)
        end_utc = end.astimezone(UTC)
        if end_utc <= start_utc:
            return _ZERO
        total = _ZERO
        day = self._local_date(start)
        last_day = self._local_date(end)
        while day <= last_day:
            window = self._utc_window(day)
            if window is not None:
                overlap = min(window[1], end_utc) - max(window[0], start_utc)
                if overlap > _ZERO:
                    total += overlap
            day += _ONE_DAY
        return total

    def next_working_moment(self, moment: datetime) -> datetime:
        """Return `moment` if the office is open then, else the next opening moment."""
        require_aware(moment, "moment")
        cursor = moment.astimezone(UTC)
        for opening, closing in self._utc_windows_from(self._local_date(moment)):
            # Windows are half-open: at closing time the office is already shut.
            if closing <= cursor:
                continue
            return max(cursor, opening).astimezone(self.tz)
        raise AssertionError("unreachable: _utc_windows_from never ends")  # pragma: no cover

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def _utc_window(self, day: date) -> tuple[datetime, datetime] | None:
        # All arithmetic and comparison happens in UTC: Python compares and subtracts datetimes
        # sharing one tzinfo by wall time, which is wrong inside a DST fold.
        window = self.working_window(day)
        if window is None:
            return None
        return window[0].astimezone(UTC), window[1].astimezone(UTC)

    def _utc_windows_from(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        closed_streak = 0
        while True:
            window = self._utc_window(day)
            if window is None:
                closed_streak += 1
                if closed_streak >= MAX_CLOSED_STREAK_DAYS:
                    first_closed = day - timedelta(days=closed_streak - 1)
                    raise ValueError(
                        f"no working day within {MAX_CLOSED_STREAK_DAYS} days from {first_closed}; "
                        "check workdays and closed_days"
                    )
            else:
                closed_streak = 0
                yield window
            day += _ONE_DAY
