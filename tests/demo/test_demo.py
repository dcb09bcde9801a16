"""The demo town loads through the services, keeps its data on re-runs and verifies."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from townhall.cases.models import Case
from townhall.cases.selectors import ledger_verify
from townhall.catalog.models import Department, ServiceType
from townhall.demo.loader import demo_load, town_spec
from townhall.people.models import Citizen

pytestmark = pytest.mark.django_db


def test_the_demo_town_file_is_big_enough() -> None:
    spec = town_spec()
    assert len(spec["departments"]) >= 6
    assert len(spec["service_types"]) >= 25
    assert sum(bool(s["attributes"]) for s in spec["service_types"]) >= 25
    assert all(any(r["priority"] == "normal" for r in s["sla"]) for s in spec["service_types"])
    roles = {s["role"] for s in spec["staff"]}
    assert roles == {"council_admin", "supervisor", "caseworker", "agent"}


def test_loading_the_demo_builds_a_verifiable_town_and_reloading_keeps_it() -> None:
    summary = demo_load(cases=40)
    assert summary.loaded and summary.cases == 40
    assert Department.objects.count() >= 6
    assert ServiceType.objects.count() >= 25
    assert Citizen.objects.count() == 40
    statuses = set(Case.objects.values_list("status", flat=True))
    assert {"acknowledged", "in_progress", "resolved"} <= statuses
    checked, breaks = ledger_verify()
    assert checked > 40 and breaks == []
    # the gazetteer: every case sits within ~30 m of the address it names
    from townhall.places.models import Place
    from townhall.places.selectors import distance_m, place_search

    assert Place.objects.count() == len(town_spec()["streets"]) * 60
    for case in Case.objects.all()[:20]:
        place = Place.objects.get(property_id=case.address_id)
        assert place.address == case.address
        assert distance_m(case.lat, case.long, place.lat, place.long) < 35
    assert place_search("12 elm st")[0].place.address == "12 Elm Street"
    # re-running keeps existing data
    again = demo_load(cases=40)
    assert not again.loaded
    assert Case.objects.count() == 40


def test_the_demo_command_sets_up_without_serving(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("demo", setup_only=True, cases=5)
    out = capsys.readouterr().out
    assert "Staff admin" in out and "townhall-demo" in out
    assert Case.objects.count() == 5
