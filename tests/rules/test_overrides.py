"""A council's stored programme versions: validated, versioned, and winning over shipped files."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from tests.rules.test_evaluation import GRANT
from townhall.core.errors import NotFound, ValidationFailed
from townhall.rules.library import PROGRAMMES_DIR, yaml_parse
from townhall.rules.models import Programme as StoredProgramme
from townhall.rules.selectors import programme_get, programme_list, programme_tests_run
from townhall.rules.services import programme_save, programme_withdraw

pytestmark = pytest.mark.django_db


def shipped_energy() -> dict[str, Any]:
    data: dict[str, Any] = yaml_parse((PROGRAMMES_DIR / "energy_subsidy.yaml").read_text())
    return data


def test_a_stored_version_wins_over_the_shipped_file_of_the_same_id() -> None:
    # given the council raises the 2026 cap to 7,000
    data = shipped_energy()
    data["versions"][1]["amount"]["expression"] = "min(7000, 35% * cost)"
    data["title"]["en"] = "Home energy grant (council)"
    # when it saves the definition
    row = programme_save(definition=data, note="cap raised")
    # then the stored version is the one residents get
    assert (row.rule_id, row.version) == ("energy_subsidy", 1)
    assert programme_get(rule_id="energy_subsidy").title["en"] == "Home energy grant (council)"
    titles = [p.title["en"] for p in programme_list()]
    assert "Home energy grant (council)" in titles
    assert "Home energy renovation grant" not in titles


def test_saving_again_adds_a_version_and_the_newest_wins() -> None:
    first = programme_save(definition=copy.deepcopy(GRANT))
    changed = copy.deepcopy(GRANT)
    changed["title"] = {"en": "Grant v2"}
    second = programme_save(definition=yaml.safe_dump(changed))  # YAML text works too
    assert (first.version, second.version) == (1, 2)
    assert programme_get(rule_id="grant").title["en"] == "Grant v2"
    assert StoredProgramme.objects.filter(rule_id="grant").count() == 2
    assert second.definition["versions"][0]["effective_from"] == "2026-01-01"


def test_withdrawing_falls_back_to_the_shipped_file() -> None:
    data = shipped_energy()
    data["title"]["en"] = "Council version"
    programme_save(definition=data)
    assert programme_withdraw(rule_id="energy_subsidy") == 1
    assert programme_get(rule_id="energy_subsidy").title["en"] == "Home energy renovation grant"


def test_an_invalid_definition_is_refused_and_nothing_is_stored() -> None:
    data = copy.deepcopy(GRANT)
    data["versions"][0]["conditions"][0]["when"] = "resident()"
    with pytest.raises(ValidationFailed) as raised:
        programme_save(definition=data)
    assert "versions[0].conditions[0].when" in raised.value.details
    assert not StoredProgramme.objects.exists()


def test_an_unknown_programme_is_not_found() -> None:
    with pytest.raises(NotFound):
        programme_get(rule_id="moon_landing_grant")


def test_stored_programmes_run_their_own_tests_or_the_shipped_ones() -> None:
    own = copy.deepcopy(GRANT)
    own["tests"] = [
        {
            "name": "resident below the limit",
            "date": "2026-06-01",
            "inputs": {"resident": True, "income": 100, "size": 1, "cost": 100},
            "expected": {"outcome": "eligible", "amount": 30},
        }
    ]
    results = programme_tests_run(
        programme=programme_get(rule_id=programme_save(definition=own).rule_id)
    )
    assert [r.passed for r in results] == [True]
    programme_save(definition=shipped_energy())
    shipped = programme_tests_run(programme=programme_get(rule_id="energy_subsidy"))
    assert len(shipped) >= 5 and all(r.passed for r in shipped)


def test_the_admin_validates_on_save_and_shows_test_results(admin_client: Any) -> None:
    bad = copy.deepcopy(GRANT)
    bad["versions"][0]["conditions"][1]["when"] = "income <= nothing"
    response = admin_client.post(
        "/admin/rules/programme/add/", {"definition_yaml": yaml.safe_dump(bad), "note": ""}
    )
    assert response.status_code == 200
    assert "versions[0].conditions[1].when: unknown name" in response.content.decode()
    assert not StoredProgramme.objects.exists()

    good = shipped_energy()
    response = admin_client.post(
        "/admin/rules/programme/add/",
        {"definition_yaml": yaml.safe_dump(good), "note": "first"},
    )
    assert response.status_code == 302
    row = StoredProgramme.objects.get()
    assert (row.rule_id, row.version, row.created_by is not None) == ("energy_subsidy", 1, True)
    page = admin_client.get(f"/admin/rules/programme/{row.pk}/change/").content.decode()
    assert "9 of 9 passed" in page
    copy_page = admin_client.get(f"/admin/rules/programme/add/?copy={row.pk}").content.decode()
    assert "energy_subsidy" in copy_page
