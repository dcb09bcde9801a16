"""The loader: COPY (PostgreSQL) or bulk_create, checkpoints, resume, once only, mapping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.models import F, Q

from townhall.insights.importing import loader
from townhall.insights.importing.loader import UNMAPPED_NOTE, import_cases
from townhall.insights.importing.mapping import MappingError, mapping_load
from townhall.insights.kpis import kpi_sla_compliance
from townhall.insights.models import CaseFact, ImportRun

DATA = Path(__file__).parent / "data"
BOSTON = DATA / "boston_sample.csv"
pytestmark = pytest.mark.django_db


def sla_compliance(qs: Any) -> float | None:
    """Among facts closed and with a due time, the share closed by it (as kpis defines)."""
    due = qs.filter(closed_at__isnull=False, due_at__isnull=False)
    total = due.count()
    return due.filter(closed_at__lte=F("due_at")).count() / total if total else None


def city_on_time_share(qs: Any) -> float:
    """Boston's own verdict over the same rows: OnTime_Status == ONTIME (blank is not)."""
    due = qs.filter(closed_at__isnull=False, due_at__isnull=False)
    return due.filter(source_on_time=True).count() / due.count()


def test_boston_sla_equals_the_city_on_time_flag() -> None:
    out = import_cases(BOSTON, "boston")
    assert out.finished and out.loaded == 182 and not out.skipped
    facts = CaseFact.objects.filter(system="boston")
    assert facts.filter(closed_at__isnull=False, due_at__isnull=False).count() == 116
    ours = sla_compliance(facts)
    assert ours == city_on_time_share(facts) == 89 / 116
    # rows with a target and no OnTime_Status were all late: they count as not on time
    blank = facts.filter(source_on_time__isnull=True, due_at__isnull=False)
    assert blank.count() == 4
    assert not blank.filter(closed_at__lte=F("due_at")).exists()
    # where the city gave a verdict, ours is the same row by row
    disagree = facts.filter(closed_at__isnull=False, due_at__isnull=False).filter(
        Q(source_on_time=True, closed_at__gt=F("due_at"))
        | Q(source_on_time=False, closed_at__lte=F("due_at"))
    )
    assert not disagree.exists()


def test_boston_sla_through_the_kpi_function() -> None:
    import_cases(BOSTON, "boston")
    facts = CaseFact.objects.filter(system="boston")
    # KPIs are shares rounded to four places (docs/kpis.md).
    assert kpi_sla_compliance(facts) == pytest.approx(city_on_time_share(facts), abs=5e-5)


def test_facts_carry_no_personal_data() -> None:
    import_cases(BOSTON, "boston")
    values = " ".join(str(v) for row in CaseFact.objects.values_list() for v in row)
    assert "Beacon St" not in values and "Case Closed" not in values
    fact = CaseFact.objects.get(external_id="101001240734")
    assert (fact.source, fact.status, fact.channel) == ("imported", "closed", "phone")
    assert fact.resolved_at == fact.closed_at and not fact.personal


def test_resume_after_an_interruption_loads_each_row_once() -> None:
    first = import_cases(BOSTON, "boston", limit=50, chunk_size=20)
    assert (first.rows, first.loaded, first.finished) == (50, 50, False)
    run = ImportRun.objects.get()
    assert run.rows_done == 50 and run.finished_at is None
    second = import_cases(BOSTON, "boston", chunk_size=20)
    assert second.resumed_from == 50 and second.rows == 132 and second.finished
    assert CaseFact.objects.count() == 182
    run.refresh_from_db()
    assert (run.rows_done, run.rows_loaded) == (182, 182)
    # the notes of rows read in the first run are not counted again
    assert sum(v for k, v in run.problems.items() if "clocks" in k) == 2


def test_a_crash_mid_file_keeps_the_committed_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    real = loader._copy if connection.vendor == "postgresql" else loader._bulk_create
    calls = {"n": 0}

    def flaky(rows: list[Any]) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the third chunk
        return real(rows)

    name = "_copy" if connection.vendor == "postgresql" else "_bulk_create"
    monkeypatch.setattr(loader, name, flaky)
    with pytest.raises(KeyboardInterrupt):
        import_cases(BOSTON, "boston", chunk_size=40)
    assert CaseFact.objects.count() == 80
    assert ImportRun.objects.get().rows_done == 80
    monkeypatch.setattr(loader, name, real)
    out = import_cases(BOSTON, "boston", chunk_size=40)
    assert out.resumed_from == 80 and out.loaded == 102
    assert CaseFact.objects.count() == 182


def test_a_finished_file_loads_nothing_twice() -> None:
    import_cases(BOSTON, "boston")
    again = import_cases(BOSTON, "boston")
    assert again.already_done and again.loaded == 0
    restarted = import_cases(BOSTON, "boston", restart=True)
    assert restarted.loaded == 0 and restarted.skipped == {"already imported": 182}
    assert CaseFact.objects.count() == 182
    assert ImportRun.objects.count() == 1


def test_an_overlapping_file_skips_the_rows_already_there(tmp_path: Path) -> None:
    import_cases(BOSTON, "boston")
    lines = BOSTON.read_text().splitlines()
    other = tmp_path / "boston_again.csv"
    other.write_text("\n".join([*lines[:11], lines[1]]) + "\n")  # 10 known rows, one twice
    out = import_cases(other, "boston")
    assert out.loaded == 0
    assert out.skipped == {"already imported": 10, "duplicate id in the file": 1}


@pytest.mark.parametrize(
    ("fmt", "name", "rows", "skipped"),
    [
        ("nyc", "nyc_sample.csv", 114, {}),
        ("la", "la_2017_sample.csv", 40, {}),
        ("la", "la_2020_sample.csv", 20, {}),
        ("open311", "open311_sample.csv", 49, {}),
        ("open311", "open311_page.json", 21, {"no id": 1}),
    ],
)
def test_nyc_la_and_open311_load(fmt: str, name: str, rows: int, skipped: dict[str, int]) -> None:
    out = import_cases(DATA / name, fmt)
    assert out.rows == rows and out.skipped == skipped
    assert out.loaded == rows - sum(skipped.values()) == CaseFact.objects.filter(system=fmt).count()
    assert not CaseFact.objects.filter(opened_at__isnull=True).exists()
    assert not CaseFact.objects.filter(closed_at__lt=F("opened_at")).exists()


MAPPING_YAML = """
services:
  Street Light Outages: {service: pothole}
  abandoned vehicles: {service: no_heat, department: dpw}
departments:
  ISD: isd
channels:
  Citizens Connect App: open311
"""


def test_mapping_yaml(town: Any, tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(MAPPING_YAML)
    out = import_cases(BOSTON, "boston", mapping=mapping_load(path))
    lights = CaseFact.objects.filter(service_name="Street Light Outages")
    assert lights.count() == 15
    assert {(f.service_type.code, f.department.code) for f in lights} == {("pothole", "dpw")}
    cars = CaseFact.objects.filter(service_name="Abandoned Vehicles")
    assert {(f.service_type.code, f.department.code, f.personal) for f in cars} == {
        ("no_heat", "dpw", False)
    } or all(f.personal == f.service_type.personal for f in cars)
    isd = CaseFact.objects.filter(department_name="ISD", service_type__isnull=True)
    assert isd.exists() and {f.department.code for f in isd} == {"isd"}
    other = CaseFact.objects.get(external_id="101001240734")
    assert other.service_type is None and other.department is None
    assert other.service_name == "Notification"
    assert out.notes[UNMAPPED_NOTE] == 182 - 15 - cars.count()
    assert CaseFact.objects.filter(channel="open311").exists()


def test_mapping_csv(town: Any, tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_text("source_name,service_code,department_code\nStreet Light Outages,pothole,\n")
    import_cases(BOSTON, "boston", mapping=mapping_load(path))
    assert CaseFact.objects.filter(service_type__code="pothole").count() == 15


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("services:\n  X: {service: nope}\n", "not in the catalogue: nope"),
        ("services:\n  X: {department: nope}\n", "department nope"),
        ("services: [1, 2]\n", "services must be a mapping"),
        ("hello: world\n", "expected the keys"),
        ("services: {X: {service: pothole, colour: red}}\n", "needs service"),
        ("channels: {Call: carrier-pigeon}\n", "channel 'carrier-pigeon'"),
        ("services: {X: [unclosed\n", "not valid YAML"),
    ],
)
def test_mapping_errors(town: Any, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(content)
    with pytest.raises(MappingError, match=message):
        mapping_load(path)


def test_mapping_csv_needs_its_header(tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_text("name,code\nX,pothole\n")
    with pytest.raises(MappingError, match="header"):
        mapping_load(path)


def test_ids_too_long_are_skipped_not_fatal(tmp_path: Path) -> None:
    lines = BOSTON.read_text().splitlines()
    path = tmp_path / "long.csv"
    path.write_text(lines[0] + "\n" + "9" * 500 + lines[1][12:] + "\n" + lines[2] + "\n")
    out = import_cases(path, "boston")
    assert out.loaded == 1 and out.skipped == {"id longer than 100 characters": 1}


@pytest.mark.postgres
def test_postgres_uses_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    used = []
    real = loader._copy
    monkeypatch.setattr(loader, "_copy", lambda rows: (used.append(len(rows)), real(rows))[1])
    monkeypatch.setattr(loader, "_bulk_create", None)
    import_cases(BOSTON, "boston", chunk_size=100)
    assert used == [100, 82]
    assert CaseFact.objects.count() == 182
