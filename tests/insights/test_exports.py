"""CSV and Excel exports: the table's content, streamed, and formula injection escaped."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from typing import Any

import pytest

from tests.console.conftest import _staff, signed_in
from tests.insights.dash_data import fact
from townhall.catalog.models import Department
from townhall.insights.exports import cell_safe, csv_lines, export_response, xlsx_file
from townhall.people.roles import StaffRole

EVIL = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("text", EVIL)
def test_text_a_spreadsheet_would_run_is_escaped(text: str) -> None:
    assert cell_safe(text) == "'" + text


def test_plain_values_stay_as_they_are() -> None:
    assert cell_safe("Ward 1") == "Ward 1"
    assert cell_safe(-3) == -3 and cell_safe(2.5) == 2.5
    assert cell_safe(None) == "" and cell_safe(True) == "yes"
    assert cell_safe(dt.date(2026, 1, 2)) == "2026-01-02"


def test_csv_streams_one_line_per_row_with_the_header_first() -> None:
    lines = list(csv_lines(["area", "volume"], [["=cmd|' /C calc'!A0", 3], ["Ward 2", 4]]))
    assert len(lines) == 3
    assert lines[0] == "\ufeffarea,volume\r\n"
    assert lines[1] == "'=cmd|' /C calc'!A0,3\r\n"


def _sheet_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        names = book.namelist()
        text = book.read("xl/worksheets/sheet1.xml").decode()
        if "xl/sharedStrings.xml" in names:
            text += book.read("xl/sharedStrings.xml").decode()
    return text


def test_excel_has_the_rows_numbers_as_numbers_and_no_formula() -> None:
    out = xlsx_file(["area", "volume"], [["=1+1", 3], ["Ward 2", 4]], sheet="t")
    text = _sheet_text(out.read())
    assert "<f>" not in text  # no formula cell
    assert "&apos;=1+1" in text or "'=1+1" in text
    assert re.search(r"<c r=\"B2\"[^>]*><v>3</v>", text)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="Not an export format"):
        export_response("pdf", ["a"], [], name="x")


@pytest.fixture
def caseworker_of_public_works(town: Any) -> Any:
    return _staff("keisha", StaffRole.CASEWORKER, Department.objects.get(code="dpw"))


@pytest.mark.django_db
def test_dashboard_tables_download_with_their_figures(
    caseworker_of_public_works: Any, pothole: Any
) -> None:
    fact(pothole, area='=HYPERLINK("http://evil")', status="new")
    fact(pothole, area="Ward 1", status="new")
    client = signed_in(caseworker_of_public_works)
    response = client.get("/console/insights/", {"format": "csv", "table": "area"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="insights-area-')
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0].startswith("label,volume,open,resolved")
    assert '\'=HYPERLINK(""http://evil"")' in body
    assert "\nWard 1,1,1,0," in body.replace("\r\n", "\n")
    excel = client.get("/console/insights/", {"format": "xlsx", "table": "area"})
    assert excel.status_code == 200
    assert excel["Content-Type"].startswith("application/vnd.openxmlformats")
    text = _sheet_text(b"".join(excel.streaming_content))
    assert "Ward 1" in text and "<f>" not in text
    for table in ("department", "service", "channel", "series", "hotspots", "tiles"):
        for fmt in ("csv", "xlsx"):
            got = client.get("/console/insights/", {"format": fmt, "table": table})
            assert got.status_code == 200, (table, fmt)
