"""The demo town loads through the services, keeps its data on re-runs and verifies."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from townhall.cases.models import Case
from townhall.cases.selectors import ledger_verify
from townhall.catalog.models import Department, Jurisdiction, ServiceType
from townhall.demo.inbox import UNSURE_MESSAGES
from townhall.demo.loader import demo_load, town_spec
from townhall.demo.setup import public_url_for
from townhall.intake.boundary import boundary_refusal
from townhall.intake.models import ReviewStatus, TriageReview
from townhall.notify.models import Notification
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
    assert Case.objects.count() == 40 + len(UNSURE_MESSAGES)
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
    # the town's boundary is its gazetteer's extent: every address inside, London outside
    millbrook = Jurisdiction.objects.get(slug="millbrook")
    assert millbrook.boundary["type"] == "Polygon"
    assert all(
        boundary_refusal(jurisdiction_id=millbrook.pk, lat=p.lat, long=p.long) is None
        for p in Place.objects.all()
    )
    refusal = boundary_refusal(jurisdiction_id=millbrook.pk, lat=51.5074, long=-0.1278)
    assert refusal is not None and "county.example.org" in refusal
    # a few unsure messages wait in the triage queue, sent through intake
    pending = TriageReview.objects.filter(status=ReviewStatus.PENDING).select_related("case")
    assert pending.count() == len(UNSURE_MESSAGES)
    assert {r.case.channel for r in pending} == {"email", "sms"}
    assert all(r.confidence < 0.6 and r.suggestions for r in pending)
    # re-running keeps existing data
    again = demo_load(cases=40)
    assert not again.loaded
    assert Case.objects.count() == 40 + len(UNSURE_MESSAGES)


def test_the_demo_command_sets_up_without_serving(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("TOWNHALL_PUBLIC_URL", "")  # not set on purpose: follows --addr
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    call_command("demo", setup_only=True, cases=5, addr="0.0.0.0:8123")
    out = capsys.readouterr().out
    assert "Staff admin" in out and "townhall-demo" in out
    assert "http://127.0.0.1:8123/console/" in out
    assert settings.TOWNHALL_PUBLIC_URL == "http://127.0.0.1:8123"
    assert os.environ["TOWNHALL_PUBLIC_URL"] == "http://127.0.0.1:8123"  # for the worker
    # the banner says where mail and texts go
    assert f"written as files (one per message) to {tmp_path / 'mail'}/" in out
    assert "printed in this terminal by the worker" in out
    assert Case.objects.count() == 5 + len(UNSURE_MESSAGES)
    # links in the messages sent to residents point at the demo's address
    bodies = list(Notification.objects.values_list("body", flat=True))
    assert any("http://127.0.0.1:8123/" in b for b in bodies)
    assert not any(":8000/" in b for b in bodies)


def test_a_public_url_set_on_purpose_is_kept(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    monkeypatch.setenv("TOWNHALL_PUBLIC_URL", "https://demo.example.org")
    settings.TOWNHALL_PUBLIC_URL = "https://demo.example.org"
    # (a town already loaded is kept: this only prints the welcome)
    monkeypatch.setattr("townhall.demo.management.commands.demo.demo_is_loaded", lambda: True)
    call_command("demo", setup_only=True, cases=1, addr="127.0.0.1:8123")
    assert "https://demo.example.org/console/" in capsys.readouterr().out
    assert settings.TOWNHALL_PUBLIC_URL == "https://demo.example.org"


@pytest.mark.parametrize(
    ("addr", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("8080", "http://127.0.0.1:8080"),
        ("0.0.0.0:9000", "http://127.0.0.1:9000"),
        ("localhost:9001", "http://localhost:9001"),
        ("[::1]:8001", "http://[::1]:8001"),
        ("[::]:8002", "http://127.0.0.1:8002"),
        ("demo.local", "http://demo.local:8000"),
    ],
)
def test_the_public_url_follows_the_address_served(addr: str, url: str) -> None:
    assert public_url_for(addr) == url
