"""One reader per source format: the header is checked, every data row becomes one item.

Each reader yields exactly one `SourceRow` or `BadRow` per data row (that count is what
`ImportRun.rows_done` records, so a resumed run skips the same rows). Names, contacts,
addresses and free text are never read: only ids, dates, the service and department as
the source named them, the channel, the area (ward or district) and the coordinates.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from townhall.insights.importing.rows import (
    SKEW,
    BadRow,
    BadValue,
    LocalTimes,
    SourceRow,
    coordinate,
    iso_date,
    iso_datetime,
    us_datetime,
)

Item = SourceRow | BadRow


SKEW_NOTE = "closed up to an hour before opened (clocks): closed time set to the open time"

DAY_NOTE = "closed the day it was opened, no time of day: closed time set to the open time"


class ImportFileError(Exception):
    """The file cannot be imported at all (missing, wrong format, header does not match)."""


# Where a request came from, as the sources name it -> people.Channel (unknown: "other").
CHANNELS: dict[str, str] = {
    "constituent call": "phone",
    "call": "phone",
    "voicemail": "phone",
    "citizens connect app": "web",
    "mobile app": "web",
    "self service": "web",
    "employee generated": "staff",
    "city worker app": "staff",
    "driver self report": "staff",
    "council's office": "staff",
    "twitter": "social",
    "email": "email",
    "walk-in": "counter",
}

STATUSES: dict[str, str] = {  # source status -> cases.CaseStatus
    "closed": "closed",
    "open": "in_progress",
    "submitted": "new",
    "pending": "in_progress",
    "forward": "in_progress",
    "cancelled": "rejected",
    "referred out": "closed",
}


def channel_of(source: str, overrides: dict[str, str]) -> str:
    key = source.strip().casefold()
    return overrides.get(key) or CHANNELS.get(key) or "other"


class CsvReader:
    """Shared CSV plumbing: header check, column lookup, byte position for the progress bar."""

    format: ClassVar[str]
    system: ClassVar[str]
    zone: ClassVar[str]
    required: ClassVar[tuple[str, ...]]
    optional: ClassVar[tuple[str, ...]] = ()

    def __init__(self, path: Path, zone: str | None = None, channels: dict[str, str] | None = None):
        self.path = path
        self.local = LocalTimes(zone or self.zone)
        self.channels = channels or {}
        self.notes: Counter[str] = Counter()
        self._raw: io.BufferedReader | None = None
        self.col: dict[str, int] = {}
        self.width = 0

    def position(self) -> int:
        """Bytes read so far (for the progress bar)."""
        raw = self._raw
        if raw is None or raw.closed:
            return self.path.stat().st_size if self.path.is_file() else 0
        return raw.tell()

    def items(self) -> Iterator[Item]:
        """Check the header (ImportFileError if it does not match) and read every row."""
        with self.path.open("rb") as raw:
            self._raw = raw
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
            reader = csv.reader(text)
            try:
                header = next(reader)
            except (StopIteration, csv.Error) as exc:
                raise ImportFileError(f"{self.path.name}: empty, not a CSV file") from exc
            self.columns(header)
            parse = self.parse
            width = self.width
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error:
                    yield BadRow("unreadable line")
                    continue
                if len(row) != width:
                    if not any(row):
                        continue  # a blank line is not a row
                    yield BadRow("wrong number of columns")
                    continue
                yield parse(row)

    def columns(self, header: Sequence[str]) -> None:
        names = [h.strip().casefold() for h in header]
        missing = [c for c in self.required if c.casefold() not in names]
        if missing:
            raise ImportFileError(
                f"{self.path.name}: the header does not match the {self.format} format "
                f"(missing: {', '.join(missing)})"
            )
        self.col = {n: i for i, n in enumerate(names)}
        self.width = len(names)

    def index(self, name: str) -> int | None:
        return self.col.get(name.casefold())

    def parse(self, row: list[str]) -> Item:
        raise NotImplementedError


def _date(parse: Callable[[str, LocalTimes], Any], text: str, local: LocalTimes, what: str) -> Any:
    if not text:
        return None
    try:
        return parse(text, local)
    except BadValue:
        raise BadValue(f"bad {what} date") from None


def missing_start(ext: str, opened: str) -> BadRow | None:
    """What every format needs of a row: its id and its open date."""
    if not ext:
        return BadRow("no id")
    if not opened:
        return BadRow("no open date")
    return None


def closed_in_order(opened_at: Any, closed_at: Any, notes: Counter[str]) -> Any:
    """The close time, or a BadRow if it is before the open time by more than the clocks'
    skew (up to SKEW before is set to the open time and counted in the notes)."""
    if closed_at is not None and closed_at < opened_at:
        if opened_at - closed_at > SKEW:
            return BadRow("closed before opened")
        notes[SKEW_NOTE] += 1
        return opened_at
    return closed_at


class BostonReader(CsvReader):
    """City of Boston 311 case export (CASE_ENQUIRY_ID, OPEN_DT, TARGET_DT, CLOSED_DT...)."""

    format = "boston"
    system = "boston"
    zone = "America/New_York"
    required = (
        "CASE_ENQUIRY_ID", "OPEN_DT", "TARGET_DT", "CLOSED_DT", "OnTime_Status",
        "CASE_STATUS", "TYPE", "Department", "Source", "ward", "LATITUDE", "LONGITUDE",
    )  # fmt: skip

    def columns(self, header: Sequence[str]) -> None:
        super().columns(header)
        c = self.col
        self.ix = tuple(c[n.casefold()] for n in self.required)

    def parse(self, row: list[str]) -> Item:
        i_id, i_open, i_target, i_closed, i_ontime, i_status, i_type, i_dept, i_src, i_ward, \
            i_lat, i_long = self.ix  # fmt: skip
        ext = row[i_id].strip()
        opened = row[i_open]
        if bad := missing_start(ext, opened):
            return bad
        status = STATUSES.get(row[i_status].strip().casefold())
        if status is None:
            return BadRow("unknown status")
        local = self.local
        try:
            opened_at = _date(us_datetime, opened, local, "open")
            due_at = _date(us_datetime, row[i_target], local, "target")
            closed_at = (
                _date(us_datetime, row[i_closed], local, "closed") if status == "closed" else None
            )
        except BadValue as exc:
            return BadRow(str(exc))
        closed_at = closed_in_order(opened_at, closed_at, self.notes)
        if isinstance(closed_at, BadRow):
            return closed_at
        flag = row[i_ontime]
        return SourceRow(
            ext, row[i_type].strip(), row[i_dept].strip(), channel_of(row[i_src], self.channels),
            row[i_ward].strip(), status, opened_at, closed_at, due_at,
            True if flag == "ONTIME" else False if flag == "OVERDUE" else None,
            coordinate(row[i_lat], 90), coordinate(row[i_long], 180),
        )  # fmt: skip


class NycReader(CsvReader):
    """NYC Council constituent services (unique_key, opendate, closedate, complaint_type...)."""

    format = "nyc"
    system = "nyc"
    zone = "America/New_York"
    required = ("unique_key", "opendate", "closedate", "complaint_type", "council_dist")
    optional = ("account", "borough")

    def parse(self, row: list[str]) -> Item:
        c = self.col
        ext = row[c["unique_key"]].strip()
        opened = row[c["opendate"]]
        if bad := missing_start(ext, opened):
            return bad
        try:
            opened_at = _date(iso_date, opened, self.local, "open")
            closed_at = _date(iso_date, row[c["closedate"]], self.local, "closed")
        except BadValue as exc:
            return BadRow(str(exc))
        closed_at = closed_in_order(opened_at, closed_at, self.notes)
        if isinstance(closed_at, BadRow):
            return closed_at
        account = self.index("account")
        borough = self.index("borough")
        area = row[c["council_dist"]].strip() or (
            row[borough].strip() if borough is not None else ""
        )
        return SourceRow(
            ext, row[c["complaint_type"]].strip(),
            row[account].strip() if account is not None else "",
            "other", area, "closed" if closed_at else "in_progress", opened_at, closed_at,
            None, None, None, None,
        )  # fmt: skip


class LaReader(CsvReader):
    """MyLA311 service requests (SRNumber, CreatedDate, ClosedDate, RequestType, Status...).

    Both the 2017 open-data export and the lower-case 2020 one are read (names are matched
    without regard to case; dates may be "12/31/2017 11:59:58 PM" or "1/1/20 0:05").
    """

    format = "la"
    system = "la"
    zone = "America/Los_Angeles"
    required = (
        "SRNumber", "CreatedDate", "ClosedDate", "RequestType", "Status", "RequestSource",
        "Owner", "CD", "Latitude", "Longitude",
    )  # fmt: skip

    def parse(self, row: list[str]) -> Item:
        c = self.col
        ext = row[c["srnumber"]].strip()
        opened = row[c["createddate"]]
        if bad := missing_start(ext, opened):
            return bad
        status = STATUSES.get(row[c["status"]].strip().casefold())
        if status is None:
            return BadRow("unknown status")
        try:
            opened_at = _date(us_datetime, opened, self.local, "open")
            closed_at = (
                _date(us_datetime, row[c["closeddate"]], self.local, "closed")
                if status in ("closed", "rejected")
                else None
            )
        except BadValue as exc:
            return BadRow(str(exc))
        closed_text = row[c["closeddate"]]
        if (
            closed_at is not None
            and closed_at < opened_at
            and closed_text.split(" ")[0] == opened.split(" ")[0]
            and closed_text.endswith(("12:00:00 AM", " 0:00"))
        ):  # a close date without its time (street lighting): that same day
            self.notes[DAY_NOTE] += 1
            closed_at = opened_at
        closed_at = closed_in_order(opened_at, closed_at, self.notes)
        if isinstance(closed_at, BadRow):
            return closed_at
        cd = row[c["cd"]].strip()
        return SourceRow(
            ext, row[c["requesttype"]].strip(), row[c["owner"]].strip(),
            channel_of(row[c["requestsource"]], self.channels), f"CD {cd}" if cd else "",
            status, opened_at, closed_at, None, None,
            coordinate(row[c["latitude"]], 90), coordinate(row[c["longitude"]], 180),
        )  # fmt: skip


JSON_LIMIT = 200 * 10**6  # bytes: GeoReport JSON pages are read whole, CSV is streamed
OPEN311_FIELDS = ("service_request_id", "status", "service_name", "requested_datetime")


def open311_item(get: Callable[[str], str], local: LocalTimes, notes: Counter[str]) -> Item:
    """One GeoReport v2 request (from a CSV row or a JSON object)."""
    ext = get("service_request_id").strip()
    opened = get("requested_datetime")
    if bad := missing_start(ext, opened):
        return bad
    status = STATUSES.get(get("status").strip().casefold())
    if status is None:
        return BadRow("unknown status")
    try:
        opened_at = _date(iso_datetime, opened, local, "open")
        due_at = _date(iso_datetime, get("expected_datetime"), local, "expected")
        # GeoReport v2 has no closed time: a closed request's last update stands in for it.
        closed_at = (
            _date(iso_datetime, get("updated_datetime"), local, "updated")
            if status == "closed"
            else None
        )
    except BadValue as exc:
        return BadRow(str(exc))
    closed_at = closed_in_order(opened_at, closed_at, notes)
    if isinstance(closed_at, BadRow):
        return closed_at
    return SourceRow(
        ext, get("service_name").strip() or get("service_code").strip(),
        get("agency_responsible").strip(), "open311", "", status, opened_at, closed_at,
        due_at, None, coordinate(get("lat"), 90), coordinate(get("long"), 180),
    )  # fmt: skip


class Open311Reader(CsvReader):
    """GeoReport v2 requests: a CSV with the spec's field names, or a JSON page (an array)."""

    format = "open311"
    system = "open311"
    zone = "UTC"  # times carry offsets; one without is read in the council's zone
    required = OPEN311_FIELDS

    def parse(self, row: list[str]) -> Item:
        c = self.col

        def get(name: str) -> str:
            i = c.get(name)
            return row[i] if i is not None else ""

        return open311_item(get, self.local, self.notes)

    def items(self) -> Iterator[Item]:
        with self.path.open("rb") as head:
            start = head.read(64).lstrip()
        if not start.startswith((b"[", b"{")):
            yield from super().items()
            return
        if self.path.stat().st_size > JSON_LIMIT:
            raise ImportFileError(
                f"{self.path.name}: a JSON file is read whole; over {JSON_LIMIT // 10**6} MB, "
                "export the requests as CSV (same field names) instead"
            )
        try:
            data = json.loads(self.path.read_bytes())
        except (ValueError, UnicodeDecodeError) as exc:
            raise ImportFileError(f"{self.path.name}: not valid JSON") from exc
        if isinstance(data, dict):
            data = data.get("service_requests") or data.get("requests") or []
        if not isinstance(data, list) or (data and not isinstance(data[0], dict)):
            raise ImportFileError(f"{self.path.name}: not a GeoReport v2 list of requests")
        if data and not all(f in data[0] for f in ("service_request_id", "requested_datetime")):
            raise ImportFileError(
                f"{self.path.name}: the objects do not match the open311 format "
                "(need service_request_id and requested_datetime)"
            )
        self._raw = None
        for obj in data:
            if not isinstance(obj, dict):
                yield BadRow("not an object")
                continue

            def get(name: str, obj: dict[str, Any] = obj) -> str:
                value = obj.get(name)
                return "" if value is None else str(value)

            yield open311_item(get, self.local, self.notes)


READERS: dict[str, type[CsvReader]] = {
    r.format: r for r in (Open311Reader, BostonReader, NycReader, LaReader)
}
