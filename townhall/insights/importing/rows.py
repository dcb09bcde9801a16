"""What a reader hands the loader: one `SourceRow` per data row, or the reason it is bad.

Readers parse carefully by hand rather than through a model per row: the Boston file is
read at hundreds of thousands of rows a second, and a malformed value becomes a counted
`BadRow(reason)`, never an exception that stops the import. Times in the files are local
(the council's zone) unless they carry an offset; they leave here as aware UTC datetimes.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple
from zoneinfo import ZoneInfo

UTC = dt.UTC
# A close time this little before the open time is two clocks disagreeing, not bad data.
SKEW = dt.timedelta(hours=1)


class SourceRow(NamedTuple):
    """One request as the source described it, personal data already left out."""

    external_id: str
    service_name: str
    department_name: str
    channel: str  # people.Channel value or "other"
    area: str
    status: str  # cases.CaseStatus value
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    due_at: dt.datetime | None
    source_on_time: bool | None
    lat: float | None
    long: float | None


class BadRow(NamedTuple):
    """A row the import skips, and why (the key of ImportRun.problems)."""

    reason: str


class BadValue(ValueError):
    """A value that cannot be read; its message is the skip reason."""


class LocalTimes:
    """Local wall-clock times to UTC in one zone, the offset cached per local hour.

    A time in the hour repeated when clocks go back is read as the first (daylight)
    one; a time in the hour skipped in spring is read with the offset before the change
    (Python's fold=0).
    """

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)
        self._offsets: dict[tuple[int, int, int, int], dt.timedelta] = {}
        # "01/31/2015 02" + "PM" -> the UTC start of that local hour (whole-hour offsets)
        self.hours: dict[str, dt.datetime | None] = {}

    def utc(self, y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> dt.datetime:
        key = (y, mo, d, h)
        offset = self._offsets.get(key)
        naive = dt.datetime(y, mo, d, h, mi, s)  # noqa: DTZ001 - wall clock, offset below
        if offset is None:
            offset = naive.replace(tzinfo=self.zone).utcoffset() or dt.timedelta(0)
            self._offsets[key] = offset
        return (naive - offset).replace(tzinfo=UTC)


def us_datetime(text: str, local: LocalTimes) -> dt.datetime:
    """Read "01/31/2015 02:05:09 PM" (the US 12-hour form Boston and LA export) as UTC."""
    if len(text) == 22 and text[2] == "/" and text[13] == ":" and text[16] == ":":
        key = text[:13] + text[20:]
        hour = local.hours.get(key, _MISSING)
        if hour is _MISSING:
            hour = _us_hour(text, local)
            local.hours[key] = hour
        if hour is not None:
            try:
                return hour.replace(minute=int(text[14:16]), second=int(text[17:19]))
            except ValueError as exc:
                raise BadValue("bad date") from exc
    try:
        return _flexible(text, local)
    except ValueError as exc:
        raise BadValue("bad date") from exc


_MISSING = dt.datetime.min.replace(tzinfo=UTC)


def _us_hour(text: str, local: LocalTimes) -> dt.datetime | None:
    """The UTC start of the local hour in `text`, or None (not a valid hour, or an offset
    that is not a whole number of hours: read the slow way)."""
    try:
        h = int(text[11:13])
        half = text[20:22]
        if not 1 <= h <= 12 or half not in ("AM", "PM"):
            return None
        h = (0 if h == 12 else h) + (12 if half == "PM" else 0)
        start = local.utc(int(text[6:10]), int(text[0:2]), int(text[3:5]), h)
    except ValueError:
        return None
    offset = (
        start.replace(tzinfo=None)
        - dt.datetime(  # noqa: DTZ001 - wall clock
            int(text[6:10]), int(text[0:2]), int(text[3:5]), h
        )
    )
    return start if offset.total_seconds() % 3600 == 0 else None


_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%y %H:%M",
    "%m/%d/%y %H:%M:%S",
    "%m/%d/%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
)


def _flexible(text: str, local: LocalTimes) -> dt.datetime:
    text = text.strip()
    for fmt in _FORMATS:
        try:
            t = dt.datetime.strptime(text, fmt)  # noqa: DTZ007 - local, converted below
        except ValueError:
            continue
        return local.utc(t.year, t.month, t.day, t.hour, t.minute, t.second)
    raise BadValue("bad date")


def iso_date(text: str, local: LocalTimes) -> dt.datetime:
    """Read "2015-01-31" (a day, no time) as local midnight in UTC."""
    try:
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            return local.utc(int(text[0:4]), int(text[5:7]), int(text[8:10]))
        return _flexible(text, local)
    except ValueError as exc:
        raise BadValue("bad date") from exc


def iso_datetime(text: str, local: LocalTimes) -> dt.datetime:
    """Read an ISO 8601 time; one without an offset is local."""
    try:
        t = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadValue("bad date") from exc
    if t.tzinfo is None:
        return local.utc(t.year, t.month, t.day, t.hour, t.minute, t.second)
    return t.astimezone(UTC)


def coordinate(text: str, limit: float) -> float | None:
    """A latitude (limit 90) or longitude (limit 180); None when empty, absurd or 0."""
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    if value != value or value == 0 or abs(value) > limit:  # NaN, null island, nonsense
        return None
    return value
