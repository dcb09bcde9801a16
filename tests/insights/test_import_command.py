"""`townhall import cases`: output, resume, and a clear error for every bad invocation."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from townhall.insights.models import CaseFact, ImportRun

DATA = Path(__file__).parent / "data"
BOSTON = str(DATA / "boston_sample.csv")
pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("import", *args, stdout=out)
    return out.getvalue()


def test_import_prints_loaded_and_skipped_then_resumes() -> None:
    out = run("cases", BOSTON, "--format", "boston", "--limit", "100", "--chunk", "100")
    assert "read 100 rows: loaded 100, skipped 0" in out
    assert "stopped at row 100: run the same command again" in out
    assert "note 2: closed up to an hour before opened (clocks)" in out
    out = run("cases", BOSTON, "--format", "boston")
    assert "read 82 rows (resumed at row 100): loaded 82, skipped 0" in out
    assert "finished: 182 loaded, 0 skipped in all" in out
    assert "clocks" not in out  # counted once, in the run that read those rows
    out = run("cases", BOSTON, "--format", "boston")
    assert "already imported" in out and "nothing to do" in out
    assert CaseFact.objects.count() == 182


def test_skipped_rows_are_listed_by_reason(tmp_path: Path) -> None:
    lines = Path(BOSTON).read_text().splitlines()
    path = tmp_path / "b.csv"
    path.write_text("\n".join([lines[0], lines[1], lines[1], "x,y"]) + "\n")
    out = run("cases", str(path), "--format", "boston")
    assert "loaded 1, skipped 2" in out
    assert "skipped 1: duplicate id in the file" in out
    assert "skipped 1: wrong number of columns" in out
    assert ImportRun.objects.get().problems == {
        "duplicate id in the file": 1,
        "wrong number of columns": 1,
    }


def test_mapping_option(town: Any, tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("services:\n  Street Light Outages: {service: pothole}\n")
    out = run("cases", BOSTON, "--format", "boston", "--mapping", str(path))
    assert "service not in the mapping" in out
    assert CaseFact.objects.filter(service_type__code="pothole").count() == 15


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cases", "/nonexistent/file.csv", "--format", "boston"], "no file at"),
        (["cases", str(DATA), "--format", "boston"], "no file at"),
        (["cases", BOSTON, "--format", "chicago"], "unknown format 'chicago'"),
        (
            ["cases", str(DATA / "nyc_sample.csv"), "--format", "boston"],
            "does not match the boston",
        ),
        (["cases", BOSTON, "--format", "nyc"], "missing: unique_key"),
        (["cases", BOSTON, "--format", "boston", "--limit", "0"], "--limit must be at least 1"),
        (["cases", BOSTON, "--format", "boston", "--chunk", "1"], "--chunk must be between"),
        (
            ["cases", BOSTON, "--format", "boston", "--timezone", "Mars/Olympus"],
            "unknown time zone",
        ),
        (["cases", BOSTON, "--format", "boston", "--mapping", "/nope.yaml"], "no mapping file"),
    ],
)
def test_bad_invocations_are_command_errors(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not CaseFact.objects.exists() and not ImportRun.objects.exists()


def test_a_binary_file_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50)
    with pytest.raises(CommandError, match="header does not match"):
        run("cases", str(path), "--format", "boston")


def test_the_timezone_option_moves_local_times(tmp_path: Path) -> None:
    run("cases", BOSTON, "--format", "boston", "--timezone", "UTC", "--limit", "1")
    fact = CaseFact.objects.get()
    assert fact.opened_at.hour == 0 and fact.opened_at.minute == 20  # 12:20:09 AM as UTC
