"""Every dashboard table as CSV or Excel, streamed, safe to open in a spreadsheet.

A cell whose text starts with `=`, `+`, `-`, `@` (or a tab or carriage return) would be
read by Excel, LibreOffice or Google Sheets as a formula (CSV injection): it is written with
a leading apostrophe instead. Numbers stay numbers. CSV streams row by row; the Excel file
is written by XlsxWriter in constant-memory mode to a temporary file, then streamed.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import xlsxwriter
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

FORMATS = ("csv", "xlsx")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cell_safe(value: Any) -> Any:
    """A value as a spreadsheet cell: text that a spreadsheet would run is escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV text, one line at a time (a BOM first, so Excel reads UTF-8)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([cell_safe(h) for h in header])
    for row in rows:
        yield writer.writerow([cell_safe(v) for v in row])


def xlsx_file(header: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet: str) -> Any:
    """An open temporary file holding the workbook (deleted when closed)."""
    # Handed open to the response, which closes (and so deletes) it once sent.
    out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115
    book = xlsxwriter.Workbook(
        out,
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    ws = book.add_worksheet(sheet[:31])
    bold = book.add_format({"bold": True})
    for col, name in enumerate(header):
        ws.write_string(0, col, str(cell_safe(name)), bold)
    for r, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            cell = cell_safe(value)
            if isinstance(cell, int | float):
                ws.write_number(r, col, cell)
            else:
                ws.write_string(r, col, cell)
    book.close()
    out.seek(0)
    return out


def export_response(
    fmt: str, header: Sequence[str], rows: Iterable[Sequence[Any]], *, name: str
) -> StreamingHttpResponse | FileResponse:
    """The table as a download: `fmt` one of FORMATS, `name` the file's stem."""
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:80] or "export"
    if fmt == "csv":
        response: StreamingHttpResponse | FileResponse = StreamingHttpResponse(
            csv_lines(header, rows), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
    elif fmt == "xlsx":
        response = FileResponse(
            xlsx_file(header, rows, sheet=stem),
            as_attachment=True,
            filename=f"{stem}.xlsx",
            content_type=XLSX_TYPE,
        )
    else:
        raise ValueError(f"Not an export format: {fmt!r}")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def dict_rows(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> Iterator[list[Any]]:
    """Rows of dicts as lists in `columns` order."""
    for row in rows:
        yield [row.get(c) for c in columns]
