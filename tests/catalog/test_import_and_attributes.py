"""The catalogue import and the Open311 attribute checks."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import IntegrityError

from tests.conftest import SMALL_TOWN
from townhall.catalog.attributes import AttributeSpec, answers_clean
from townhall.catalog.models import Department, ServiceType, SlaPolicy
from townhall.catalog.selectors import sla_terms_for, working_calendar_for
from townhall.catalog.services import catalog_import
from townhall.core.errors import ValidationFailed

SPECS = [
    AttributeSpec(code="plate", datatype="string", required=False),
    AttributeSpec(code="notes", datatype="text", required=False),
    AttributeSpec(code="bags", datatype="number", required=True),
    AttributeSpec(code="since", datatype="datetime", required=False),
    AttributeSpec(code="size", datatype="singlevaluelist", required=True, values=("s", "l")),
    AttributeSpec(
        code="bins",
        datatype="multivaluelist",
        required=False,
        values=("trash", "recycling", "yard"),
    ),
    AttributeSpec(code="info", datatype="string", required=True, variable=False),
]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"bags": "3", "size": "s"}, {"bags": 3, "size": "s"}),
        ({"bags": 2.5, "size": ["l"]}, {"bags": 2.5, "size": "l"}),
        (
            {"bags": 1, "size": "l", "bins": ["yard", "trash", "yard"], "plate": " ABC 123 "},
            {"bags": 1, "size": "l", "bins": ["trash", "yard"], "plate": "ABC 123"},
        ),
        (
            {"bags": 1, "size": "l", "since": "2026-11-20T08:00:00-05:00", "notes": ""},
            {"bags": 1, "size": "l", "since": "2026-11-20T08:00:00-05:00"},
        ),
        (
            {"bags": 1, "size": "l", "since": datetime(2026, 11, 20, 13, tzinfo=UTC)},
            {"bags": 1, "size": "l", "since": "2026-11-20T13:00:00+00:00"},
        ),
    ],
)
def test_good_answers_are_normalised_per_datatype(
    answers: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert answers_clean(specs=SPECS, answers=answers) == expected


@pytest.mark.parametrize(
    ("answers", "bad_fields"),
    [
        ({}, {"bags", "size"}),
        ({"bags": "many", "size": "s"}, {"bags"}),
        ({"bags": "NaN", "size": "s"}, {"bags"}),
        ({"bags": 1, "size": "xl"}, {"size"}),
        ({"bags": 1, "size": "s", "bins": ["compost"]}, {"bins"}),
        ({"bags": 1, "size": "s", "since": "last tuesday"}, {"since"}),
        ({"bags": 1, "size": "s", "info": "not a question"}, {"info"}),
        ({"bags": 1, "size": "s", "plate": "x" * 501}, {"plate"}),
    ],
)
def test_every_bad_answer_is_reported_at_once(
    answers: dict[str, Any], bad_fields: set[str]
) -> None:
    with pytest.raises(ValidationFailed) as info:
        answers_clean(specs=SPECS, answers=answers)
    assert set(info.value.details) == bad_fields


@pytest.mark.django_db
def test_importing_twice_updates_in_place(town: Any) -> None:
    spec = copy.deepcopy(SMALL_TOWN)
    spec["service_types"][0]["name"] = "Pothole or sunken road"
    _, summary = catalog_import(spec=spec)
    assert summary.created == {}
    assert summary.updated["service_types"] == 2
    assert ServiceType.objects.get(code="pothole").name == "Pothole or sunken road"
    assert ServiceType.objects.count() == 2


def test_duplicate_detection_is_set_per_service_in_the_catalogue(town: Any) -> None:
    pothole = ServiceType.objects.get(code="pothole")
    assert (pothole.duplicate_radius_m, pothole.duplicate_window_days) == (50, 30)  # defaults
    spec = copy.deepcopy(SMALL_TOWN)
    spec["service_types"][1]["duplicates"] = {"radius_m": 0, "window_days": 7}
    catalog_import(spec=spec)
    no_heat = ServiceType.objects.get(code="no_heat")
    assert (no_heat.duplicate_radius_m, no_heat.duplicate_window_days) == (0, 7)
    spec["service_types"][1]["duplicates"] = {"radius_m": -5}
    with pytest.raises(ValidationFailed) as info:
        catalog_import(spec=spec)
    assert "duplicates must be" in info.value.details["service_types.no_heat"][0]


@pytest.mark.django_db
def test_a_bad_catalogue_writes_nothing() -> None:
    spec = copy.deepcopy(SMALL_TOWN)
    spec["service_types"][0]["department"] = "nowhere"
    spec["service_types"][1]["sla"][0]["hours"] = 0
    with pytest.raises(ValidationFailed) as info:
        catalog_import(spec=spec)
    assert set(info.value.details) == {"service_types.pothole", "service_types.no_heat"}
    assert Department.objects.count() == 0


@pytest.mark.django_db
def test_sla_falls_back_to_normal_priority(pothole: Any) -> None:
    assert sla_terms_for(service_type_id=pothole.pk, priority="urgent").clock == "elapsed"  # type: ignore[union-attr]
    fallback = sla_terms_for(service_type_id=pothole.pk, priority="low")
    assert fallback is not None
    assert (fallback.target_hours, fallback.clock) == (16, "business")


@pytest.mark.django_db
def test_the_department_calendar_knows_holidays_and_closures(pothole: Any) -> None:
    calendar = working_calendar_for(department=pothole.department)
    assert not calendar.is_working_day(datetime(2026, 11, 26).date())  # Thanksgiving
    assert not calendar.is_working_day(datetime(2026, 12, 24).date())  # local closure
    assert not calendar.is_working_day(datetime(2026, 4, 20).date())  # Patriots' Day (MA)
    assert calendar.is_working_day(datetime(2026, 11, 23).date())


@pytest.mark.django_db
def test_one_sla_per_service_and_priority(pothole: Any) -> None:
    with pytest.raises(IntegrityError):
        SlaPolicy.objects.create(
            service_type=pothole, priority="normal", target_hours=5, clock="elapsed"
        )


@pytest.mark.django_db
def test_the_import_command_loads_a_file_and_reports_problems(tmp_path: Any, capsys: Any) -> None:
    from django.core.management import CommandError, call_command

    good = tmp_path / "town.json"
    good.write_text(json.dumps(SMALL_TOWN))
    call_command("catalog_import", str(good))
    assert (
        "created: 2 attributes, 1 calendars, 1 closures, 2 departments" in capsys.readouterr().out
    )
    assert ServiceType.objects.count() == 2
    bad_spec = copy.deepcopy(SMALL_TOWN)
    bad_spec["service_types"][0]["group"] = "nowhere"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bad_spec))
    with pytest.raises(CommandError, match="unknown group 'nowhere'"):
        call_command("catalog_import", str(bad))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("catalog_import", str(broken))
