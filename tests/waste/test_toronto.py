"""Importing the City of Toronto's schedule, inferring rules, generating a year again."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.waste.conftest import DATA, import_excerpt
from townhall.waste.inference import schedule_compare, zones_infer
from townhall.waste.models import (
    CollectionOverride,
    CollectionRule,
    HolidayHandling,
    WasteConfig,
    Zone,
)
from townhall.waste.public_holidays import public_holidays
from townhall.waste.schedule import HolidayRule, collections_between
from townhall.waste.selectors import waste_schedule_rows
from townhall.waste.services import waste_config_set
from townhall.waste.toronto import toronto_read

SHARED = Path("/work/shared/data/waste_toronto")
pytestmark = pytest.mark.django_db


def rows_of(path: Path) -> list[tuple[str, date, tuple[str, ...]]]:
    with path.open(newline="") as handle:
        return [
            (r.zone, r.day, r.streams) for _, r in toronto_read(handle) if not isinstance(r, str)
        ]


def test_the_import_infers_each_zones_rules() -> None:
    waste_config_set(country="CA", subdivision="ON")
    report = import_excerpt(2023)
    assert (report.zones, report.rows, report.rejected) == (3, 156, [])
    assert report.holiday_rule == "collect"  # Toronto collected on every 2023 holiday
    rules = {r.stream.code: r for r in CollectionRule.objects.filter(zone__code="Tuesday1")}
    assert set(rules) == {"organics", "garbage", "recycling", "garden", "christmas_tree"}
    assert rules["organics"].weekday == 1 and rules["organics"].cycle_weeks == 1
    assert rules["garbage"].cycle_weeks == rules["recycling"].cycle_weeks == 2
    assert rules["garbage"].phase != rules["recycling"].phase
    garden = rules["garden"]
    assert (garden.season_start_month, garden.season_end_month) == (3, 12)


def test_an_import_reproduces_its_own_year_exactly() -> None:
    # 2024 has the Christmas shifts: learnt as what Christmas Day does, not as overrides.
    waste_config_set(country="CA", subdivision="ON")
    report = import_excerpt(2024)
    assert report.overrides == 0
    assert not CollectionOverride.objects.exists()
    assert HolidayHandling.objects.filter(
        holiday="Christmas Day", weekday=None, effect="slide_week"
    ).exists()
    generated = [
        (zone, day, streams)
        for zone, _, day, streams in waste_schedule_rows(
            start=date(2024, 1, 1), end=date(2024, 12, 31)
        )
    ]
    _scores, differences = schedule_compare(generated, rows_of(DATA / "toronto-2024-excerpt.csv"))
    assert differences == []


def test_generate_writes_the_citys_format(tmp_path: Path) -> None:
    waste_config_set(country="CA", subdivision="ON")
    import_excerpt(2023)
    out = tmp_path / "2025.csv"
    call_command("waste", "generate", "--year", "2025", "--out", str(out), verbosity=0)
    with out.open() as handle:
        reader = csv.DictReader(handle)
        records = list(reader)
    assert reader.fieldnames == [
        "_id",
        "Schedule",
        "CollectionDate",
        "Organics",
        "Garbage",
        "Recycling",
        "YardWaste",
        "ChristmasTree",
    ]
    first = records[0]
    assert first["_id"] == "1" and first["CollectionDate"].startswith("2025-01-")
    tuesday = [r for r in records if r["Schedule"] == "Tuesday1"]
    assert len(tuesday) == 52 and {r["Organics"] for r in tuesday} == {"T"}
    assert {r["Garbage"] for r in tuesday} == {"T", "0"}
    assert rows_of(out)  # and it reads back


def test_import_command_reports_and_rejects_bad_lines(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    text = (DATA / "toronto-2023-excerpt.csv").read_text() + "999,Tuesday1,not-a-date,T,0,0,0,0\n"
    bad.write_text(text)
    out = io.StringIO()
    call_command(
        "waste",
        "import",
        str(bad),
        "--country",
        "CA",
        "--subdivision",
        "ON",
        stdout=out,
        verbosity=0,
    )
    assert "3 zones" in out.getvalue() and "1 rejected" in out.getvalue()
    assert WasteConfig.objects.get().country == "CA"
    assert Zone.objects.count() == 3


def test_rules_learnt_from_2023_predict_2024_but_for_christmas() -> None:
    """The inference round trip on the committed excerpt: all but the Christmas shifts."""
    holidays = public_holidays(country="CA", subdivision="ON", years=range(2022, 2026))
    rule, zones = zones_infer(rows_of(DATA / "toronto-2023-excerpt.csv"), holidays=holidays)
    predicted = [
        (z.zone, c.day, c.streams)
        for z in zones
        for c in collections_between(
            z.rules, date(2024, 1, 1), date(2024, 12, 31), holidays=holidays, holiday_rule=rule
        )
    ]
    scores, differences = schedule_compare(predicted, rows_of(DATA / "toronto-2024-excerpt.csv"))
    assert rule is HolidayRule.COLLECT
    assert {(z, d) for z, _, d, _ in differences} == {
        ("Wednesday1", date(2024, 12, 25)),
        ("Wednesday1", date(2024, 12, 26)),
        ("Friday2", date(2024, 12, 27)),
        ("Friday2", date(2024, 12, 28)),
    }
    assert sum(s.matched for s in scores.values()) == 376


@pytest.mark.skipif(
    not (SHARED / "pickup-schedule-2024.csv").exists(),
    reason="the full Toronto schedules are not in /work/shared/data/waste_toronto",
)
def test_the_full_2023_schedule_predicts_2024(capsys: Any) -> None:
    call_command(
        "waste",
        "compare",
        str(SHARED / "pickup-schedule-2023.csv"),
        str(SHARED / "pickup-schedule-2024.csv"),
        "--country",
        "CA",
        "--subdivision",
        "ON",
    )
    out = capsys.readouterr().out
    assert "total: 1004 matched of 1012 real collections (99.21%), 8 missed, 8 extra" in out
