"""The catalogue file: every problem at once, under its row, before anything is written."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import SMALL_TOWN
from townhall.catalog.importing import catalogue_check
from townhall.catalog.models import Department
from townhall.core.errors import ValidationFailed


def test_every_problem_is_listed_under_its_row() -> None:
    spec = copy.deepcopy(SMALL_TOWN)
    del spec["jurisdiction"]["timezone"]
    spec["calendar"]["workdays"] = [0, 9]
    spec["departments"][0]["auto_assign"] = "sometimes"
    pothole = spec["service_types"][0]
    pothole["group"] = "nowhere"
    pothole["sla"] = [{"priority": "normal", "clock": "business", "hours": "soon"}]
    pothole["attributes"][0]["datatype"] = "colour"
    with pytest.raises(ValidationFailed) as raised:
        catalogue_check(spec)
    details = raised.value.details
    assert details["jurisdiction"] == ["timezone: is required"]
    assert details["calendar"] == ["workdays[1]: Input should be less than or equal to 6"]
    assert details[f"departments.{spec['departments'][0]['code']}"] == [
        "auto_assign: Input should be a valid boolean, unable to interpret input"
    ]
    assert details["service_types.pothole"] == [
        "unknown group 'nowhere'",
        "SLA hours must be positive",
        f"attribute {pothole['attributes'][0]['code']}: bad datatype",
    ]


def test_a_file_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValidationFailed) as raised:
        catalogue_check([])
    assert "(top)" in raised.value.details


@pytest.mark.django_db
def test_the_command_lists_missing_keys_with_the_rest(tmp_path: Path) -> None:
    spec = copy.deepcopy(SMALL_TOWN)
    del spec["calendar"]
    spec["service_types"][0]["department"] = "nowhere"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(CommandError) as raised:
        call_command("catalog_import", str(path))
    assert "calendar: is required" in str(raised.value)
    assert "service_types.pothole: unknown department 'nowhere'" in str(raised.value)
    assert Department.objects.count() == 0
