"""The City of Toronto's published pickup-schedule CSV: read it and write it.

One row per zone ("Schedule": Tuesday1, Friday2...) and collection date, with one column per
stream holding the letter of the zone's day (T, W, R, F...) when that stream is collected
and "0" when it is not. A row exists only for dates with at least one stream. The 2026
file calls the columns Calendar, WeekStarting (the collection date, despite the name) and
GreenBin, and has no Recycling column: read alike.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Protocol

# Toronto's column -> our stream code, in the file's column order.
STREAM_COLUMNS: dict[str, str] = {
    "Organics": "organics",
    "Garbage": "garbage",
    "Recycling": "recycling",
    "YardWaste": "garden",
    "ChristmasTree": "christmas_tree",
}
COLUMN_FOR_STREAM = {code: column for column, code in STREAM_COLUMNS.items()}
# The 2026 file renamed three columns (and dropped Recycling): read them as the old names.
RENAMED = {"Calendar": "Schedule", "WeekStarting": "CollectionDate", "GreenBin": "Organics"}
DAY_LETTERS = "MTWRFSU"  # Monday..Sunday, as the city writes them (R is Thursday)
# The city changed its date format from year to year (ISO in 2023/2024).
DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%m/%d/%y")


class Writable(Protocol):
    def write(self, text: str, /) -> object: ...


@dataclass(frozen=True)
class TorontoRow:
    zone: str
    day: date
    streams: tuple[str, ...]


def _parse_date(text: str) -> date:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern).date()  # noqa: DTZ007 - a date
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r}")


def toronto_read(handle: IO[str]) -> Iterator[tuple[int, TorontoRow | str]]:
    """Yield (line, row) for each data line, or (line, reason) for a line that is wrong.

    Raise ValueError if the header lacks Schedule, CollectionDate or every stream column.
    """
    reader = csv.DictReader(handle)
    reader.fieldnames = [RENAMED.get(f.strip(), f.strip()) for f in reader.fieldnames or []]
    fields = reader.fieldnames
    if "Schedule" not in fields or "CollectionDate" not in fields:
        raise ValueError("the header must name Schedule and CollectionDate")
    columns = [c for c in STREAM_COLUMNS if c in fields]
    if not columns:
        raise ValueError(f"the header names no stream column ({', '.join(STREAM_COLUMNS)})")
    for line, record in enumerate(reader, start=2):
        zone = (record.get("Schedule") or "").strip()
        if not zone:
            yield line, "no Schedule"
            continue
        try:
            day = _parse_date(record.get("CollectionDate") or "")
        except ValueError as exc:
            yield line, str(exc)
            continue
        streams = tuple(
            STREAM_COLUMNS[c] for c in columns if (record.get(c) or "0").strip() not in {"", "0"}
        )
        yield line, TorontoRow(zone=zone, day=day, streams=streams)


def toronto_write(handle: Writable, rows: Iterable[tuple[str, int, date, Iterable[str]]]) -> int:
    """Write (zone, zone weekday, date, streams) rows in the city's format; return how many."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(["_id", "Schedule", "CollectionDate", *STREAM_COLUMNS])
    count = 0
    for count, (zone, weekday, day, streams) in enumerate(rows, start=1):
        letter = DAY_LETTERS[weekday]
        present = set(streams)
        writer.writerow(
            [count, zone, day.isoformat()]
            + [letter if code in present else "0" for code in STREAM_COLUMNS.values()]
        )
    return count
