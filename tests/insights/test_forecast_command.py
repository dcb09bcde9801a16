"""`townhall insights forecast` on fact rows made here, and the dashboards' selector."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from townhall.insights.forecast import forecast_daily
from townhall.insights.models import CaseFact

START = datetime(2025, 1, 6, 15, 0, tzinfo=UTC)  # a Monday, mid-day in Boston
WEEKLY = [12, 11, 10, 10, 9, 2, 1]


def make_facts(service: Any, days: int, *, personal: bool = False, prefix: str = "p") -> None:
    rng = np.random.default_rng(5)
    rows = []
    for day in range(days):
        when = START + timedelta(days=day)
        for k in range(int(rng.poisson(WEEKLY[when.weekday()]))):
            rows.append(
                CaseFact(
                    source="imported",
                    system="test",
                    external_id=f"{prefix}{day}-{k}",
                    service_type=service,
                    service_name=service.name,
                    status="closed",
                    personal=personal,
                    opened_at=when,
                )
            )
    CaseFact.objects.bulk_create(rows)


def run(*args: str) -> str:
    out = StringIO()
    call_command("insights", "forecast", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_text_forecast_from_facts(pothole: Any) -> None:
    make_facts(pothole, 120)
    text = run("--weeks", "2")
    assert "Forecast for all: 14 days from 120 days of history" in text
    assert "weekly only (history under a year)" in text
    assert "80 % interval" in text and "Weeks:" in text
    assert text.count("\n  2025-") >= 14


@pytest.mark.django_db
def test_json_forecast_for_one_service(pothole: Any, no_heat: Any) -> None:
    make_facts(pothole, 90)
    make_facts(no_heat, 90, prefix="h")
    data = json.loads(run("--json", "--service", "pothole", "--weeks", "1"))
    (item,) = data["forecasts"]
    assert item["service"] == "pothole" and len(item["days"]) == 7
    monday = next(d for d in item["days"] if datetime.fromisoformat(d["date"]).weekday() == 0)
    sunday = next(d for d in item["days"] if datetime.fromisoformat(d["date"]).weekday() == 6)
    assert 7 < monday["mean"] < 17 and sunday["mean"] < 4
    low, high = monday["interval_80"]
    assert low <= monday["mean"] <= high
    both = json.loads(run("--json", "--top", "2", "--weeks", "1"))
    assert next(f["service"] for f in both["forecasts"]) == "all"
    assert {f["service"] for f in both["forecasts"]} == {"all", "pothole", "no_heat"}


@pytest.mark.django_db
def test_backtest_prints_model_and_seasonal_naive_mape(pothole: Any) -> None:
    make_facts(pothole, 200)
    text = run("--backtest", "--weeks", "4", "--cutoffs", "3")
    assert "model MAPE" in text and "seasonal-naive MAPE" in text
    assert "3 cut-offs" in text
    data = json.loads(run("--backtest", "--json", "--weeks", "4", "--cutoffs", "3"))
    (result,) = data["backtests"]
    assert result["model"]["mape"] < result["naive_week"]["mape"]
    assert result["naive_year"] is None and result["stronger_baseline"] == "naive-week"


@pytest.mark.django_db
def test_selector_for_the_dashboards(pothole: Any, no_heat: Any) -> None:
    assert forecast_daily() == []  # no history: nothing to show, no error
    make_facts(pothole, 60)
    make_facts(no_heat, 60, personal=True, prefix="h")
    rows = forecast_daily(weeks=1)
    assert len(rows) == 7 and set(rows[0]) == {"date", "mean", "lower", "upper"}
    assert all(r["lower"] <= r["mean"] <= r["upper"] for r in rows)
    only_pothole = forecast_daily(service_type_id=pothole.pk, weeks=1)
    # personal services' requests are left out of the selector's "all"
    assert [r["mean"] for r in rows] == [r["mean"] for r in only_pothole]
    assert forecast_daily(service_type_id=no_heat.pk + 1000, weeks=1) == []
    for weeks in (0, 53, -1):
        with pytest.raises(ValueError, match="Weeks must be between"):
            forecast_daily(weeks=weeks)


@pytest.mark.django_db
def test_too_little_history_is_a_command_error(pothole: Any) -> None:
    with pytest.raises(CommandError, match="No history"):
        run()
    make_facts(pothole, 20)
    with pytest.raises(CommandError, match="Too little history"):
        run()
    make_facts(pothole, 40, prefix="q")
    with pytest.raises(CommandError, match="Too little history to backtest"):
        run("--backtest", "--weeks", "8")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--weeks", "0"], "--weeks must be between"),
        (["--weeks", "1000"], "--weeks must be between"),
        (["--weeks", "x"], "invalid int"),
        (["--top", "500"], "--top must be between"),
        (["--cutoffs", "0"], "--cutoffs must be between"),
        (["--service", "nope"], "No service type 'nope'"),
        (["--from-csv", "x.csv"], "go together"),
        (["--format", "nyc"], "go together"),
        (["--format", "la", "--from-csv", "x.csv"], "invalid choice"),
        (["--from-csv", "/no/such.csv", "--format", "nyc"], "No such file"),
        (["--until", "2020-01-01"], "only applies with --from-csv"),
    ],
)
def test_bad_options(town: Any, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_backtest_from_an_export_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    lines = ["unique_key,opendate,complaint_type"]
    day0 = datetime(2023, 1, 2)
    for d in range(180):
        day = day0 + timedelta(days=d)
        for k in range(int(rng.poisson(WEEKLY[day.weekday()] * 3))):
            lines.append(f"K{d}-{k},{day:%Y-%m-%d},{'Parks' if k % 3 else 'Housing'}")
    path = tmp_path / "nyc.csv"
    path.write_text("\n".join(lines))
    data = json.loads(
        run(
            "--backtest",
            "--json",
            "--from-csv",
            str(path),
            "--format",
            "nyc",
            "--weeks",
            "4",
            "--cutoffs",
            "2",
            "--top",
            "1",
        )
    )
    assert [b["service"] for b in data["backtests"]] == ["all", "Parks"]
    text = run("--from-csv", str(path), "--format", "nyc", "--until", "2023-05-01", "--weeks", "1")
    assert "2023-05-02" in text
    wrong = tmp_path / "boston.csv"
    wrong.write_text("a,b\n1,2\n")
    with pytest.raises(CommandError, match="is not a nyc export"):
        run("--from-csv", str(wrong), "--format", "nyc")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 100)
    with pytest.raises(CommandError, match="is not a nyc export"):
        run("--from-csv", str(binary), "--format", "nyc")
    with pytest.raises(CommandError, match="--until must be a date"):
        run("--from-csv", str(path), "--format", "nyc", "--until", "soon")
    with pytest.raises(CommandError, match="No requests of type"):
        run("--from-csv", str(path), "--format", "nyc", "--service", "Nothing")
