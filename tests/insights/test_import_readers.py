"""Readers: real rows of each format become facts; bad rows become counted reasons."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from townhall.insights.importing.readers import READERS, SKEW_NOTE, ImportFileError
from townhall.insights.importing.rows import BadRow, SourceRow

DATA = Path(__file__).parent / "data"
UTC = dt.UTC


def read(fmt: str, name: str | Path) -> tuple[list[SourceRow], Counter[str], Counter[str]]:
    reader = READERS[fmt](DATA / name if isinstance(name, str) else name)
    good, bad = [], Counter()
    for item in reader.items():
        if isinstance(item, BadRow):
            bad[item.reason] += 1
        else:
            good.append(item)
    return good, bad, reader.notes


def test_boston_rows_in_utc_with_the_city_verdict() -> None:
    rows, bad, notes = read("boston", "boston_sample.csv")
    assert len(rows) == 182 and not bad
    first = rows[0]
    assert first.external_id == "101001240734"
    # 01/01/2015 12:20:09 AM in Boston (EST, UTC-5)
    assert first.opened_at == dt.datetime(2015, 1, 1, 5, 20, 9, tzinfo=UTC)
    assert first.closed_at == dt.datetime(2015, 1, 2, 14, 8, 42, tzinfo=UTC)
    assert first.due_at is None
    assert (first.service_name, first.department_name) == ("Notification", "INFO")
    assert (first.channel, first.area, first.status) == ("phone", "Ward 5", "closed")
    assert first.source_on_time is True
    assert (first.lat, first.long) == (42.3574, -71.0648)
    # no address, title or description travels
    assert not any("Beacon" in str(v) for v in first)
    flags = Counter(r.source_on_time for r in rows)
    assert flags == {True: 143, False: 35, None: 4}
    assert notes[SKEW_NOTE] == 2
    skewed = [r for r in rows if r.external_id in ("101001371095", "101001371280")]
    assert skewed and all(r.closed_at == r.opened_at for r in skewed)


def test_boston_summer_time_and_the_repeated_hour() -> None:
    rows, _, _ = read("boston", "boston_sample.csv")
    july = next(r for r in rows if r.opened_at.month == 7)
    assert july.opened_at.utcoffset() == dt.timedelta(0)
    # 11/01/2015 01:16:00 AM happened twice; read as the first (daylight, UTC-4) one
    repeated = next(r for r in rows if r.external_id == "101001624970")
    assert repeated.opened_at == dt.datetime(2015, 11, 1, 5, 16, tzinfo=UTC)


def test_boston_channels() -> None:
    rows, _, _ = read("boston", "boston_sample.csv")
    assert {r.channel for r in rows} <= {"phone", "web", "staff", "social", "other"}
    assert {"phone", "web", "staff"} <= {r.channel for r in rows}


def test_nyc_days_are_local_midnight() -> None:
    rows, bad, _ = read("nyc", "nyc_sample.csv")
    assert len(rows) == 114 and not bad
    r = rows[0]
    assert r.opened_at.astimezone(dt.timezone(dt.timedelta(hours=-5))).hour == 0
    assert r.channel == "other" and r.department_name.startswith("NYCC")
    assert {x.status for x in rows} <= {"closed", "in_progress"}
    assert all((x.status == "closed") == (x.closed_at is not None) for x in rows)


@pytest.mark.parametrize(
    ("name", "count"), [("la_2017_sample.csv", 40), ("la_2020_sample.csv", 20)]
)
def test_la_both_exports(name: str, count: int) -> None:
    rows, bad, _ = read("la", name)
    assert len(rows) + sum(bad.values()) == count
    assert len(rows) >= count - 1
    r = rows[0]
    assert r.area.startswith("CD ")
    assert r.opened_at.tzinfo is UTC
    assert {x.channel for x in rows} <= {"phone", "web", "staff", "email", "counter", "other"}


def test_la_2020_short_dates() -> None:
    rows, _, _ = read("la", "la_2020_sample.csv")
    # 1/1/20 0:05 in Los Angeles (PST, UTC-8)
    assert rows[0].opened_at == dt.datetime(2020, 1, 1, 8, 5, tzinfo=UTC)


def test_open311_csv_and_json_page() -> None:
    rows, bad, _ = read("open311", "open311_sample.csv")
    assert len(rows) == 49 and not bad
    assert rows[0].opened_at == dt.datetime(2008, 10, 6, 16, 40, 59, tzinfo=UTC)
    page, bad, _ = read("open311", "open311_page.json")
    # a "submitted" request the city had not given an id yet (GeoReport allows a token)
    assert len(page) == 20 and bad == {"no id": 1}
    assert {r.status for r in page} == {"in_progress", "closed"}
    assert all(r.channel == "open311" for r in page)
    assert all((r.closed_at is not None) == (r.status == "closed") for r in page)


BOSTON_HEADER = (DATA / "boston_sample.csv").read_text().splitlines()[0]
GOOD = (DATA / "boston_sample.csv").read_text().splitlines()[1]


def test_bad_rows_are_counted_by_reason(tmp_path: Path) -> None:
    cells = GOOD.split(",")

    def row(**change: str) -> str:
        c = list(cells)
        names = BOSTON_HEADER.split(",")
        for k, v in change.items():
            c[names.index(k)] = v
        return ",".join(c)

    lines = [
        BOSTON_HEADER,
        GOOD,
        row(CASE_ENQUIRY_ID=""),
        row(CASE_ENQUIRY_ID="2", OPEN_DT=""),
        row(CASE_ENQUIRY_ID="3", OPEN_DT="13/45/2015 99:00:00 PM"),
        row(CASE_ENQUIRY_ID="4", CLOSED_DT="yesterday"),
        row(CASE_ENQUIRY_ID="5", TARGET_DT="02/30/2015 08:30:00 AM"),
        row(CASE_ENQUIRY_ID="6", CASE_STATUS="Exploded"),
        row(CASE_ENQUIRY_ID="7", CLOSED_DT="12/25/2014 09:00:00 AM"),
        "8,too,few",
        "",
        row(CASE_ENQUIRY_ID="9", LATITUDE="north", LONGITUDE="999"),
    ]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    rows, bad, _ = read("boston", path)
    assert bad == {
        "no id": 1,
        "no open date": 1,
        "bad open date": 1,
        "bad closed date": 1,
        "bad target date": 1,
        "unknown status": 1,
        "closed before opened": 1,
        "wrong number of columns": 1,
    }
    assert [r.external_id for r in rows] == ["101001240734", "9"]
    assert (rows[1].lat, rows[1].long) == (None, None)


def test_header_of_another_format_is_refused() -> None:
    with pytest.raises(ImportFileError, match="missing: CASE_ENQUIRY_ID"):
        next(READERS["boston"](DATA / "nyc_sample.csv").items())
    with pytest.raises(ImportFileError, match="nyc format"):
        next(READERS["nyc"](DATA / "boston_sample.csv").items())


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01\x02\xff\xfe binary", b'[{"id": 1}]', b"[1, 2]", b"{not json"],
)
def test_files_that_are_not_requests_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError):
        next(READERS["open311"](path).items())
    with pytest.raises(ImportFileError):
        next(READERS["boston"](path).items())


def test_a_huge_json_file_is_refused_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from townhall.insights.importing import readers

    monkeypatch.setattr(readers, "JSON_LIMIT", 1000)
    path = tmp_path / "big.json"
    path.write_text("[" + ",".join(['{"service_request_id": "1"}'] * 100) + "]")
    with pytest.raises(ImportFileError, match="export the requests as CSV"):
        next(READERS["open311"](path).items())


def _edit(src: str, dst: Path, changes: list[dict[str, str]]) -> Path:
    """A copy of sample `src` whose first rows get `changes` (column -> value)."""
    with (DATA / src).open(newline="") as f:
        rows = list(csv.DictReader(f))
    for row, change in zip(rows, changes, strict=False):
        row.update(change)
    with dst.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows[: len(changes)])
    return dst


def test_la_close_date_without_time_is_that_day(tmp_path: Path) -> None:
    # Street lighting closes with a date only: "12:00:00 AM" the day the case was opened.
    path = _edit(
        "la_2017_sample.csv",
        tmp_path / "la.csv",
        [
            {"CreatedDate": "12/30/2017 05:16:06 PM", "ClosedDate": "12/30/2017 12:00:00 AM"},
            {"CreatedDate": "12/30/2017 05:16:06 PM", "ClosedDate": "12/29/2017 12:00:00 AM"},
        ],
    )
    rows, bad, notes = read("la", path)
    assert len(rows) == 1 and rows[0].closed_at == rows[0].opened_at
    assert bad == {"closed before opened": 1}
    assert sum(notes.values()) == 1


def test_open311_clock_skew_is_corrected(tmp_path: Path) -> None:
    path = _edit(
        "open311_sample.csv",
        tmp_path / "o.csv",
        [
            {
                "requested_datetime": "2019-01-02T10:00:30-05:00",
                "updated_datetime": "2019-01-02T10:00:00-05:00",
                "status": "closed",
            },
            {
                "requested_datetime": "2019-01-02T10:00:30-05:00",
                "updated_datetime": "2019-01-01T10:00:00-05:00",
                "status": "closed",
            },
        ],
    )
    rows, bad, notes = read("open311", path)
    assert len(rows) == 1 and rows[0].closed_at == rows[0].opened_at
    assert bad == {"closed before opened": 1} and notes == {SKEW_NOTE: 1}
