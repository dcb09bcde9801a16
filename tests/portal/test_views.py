"""Portal wiring: the home page lists services; tracking finds a case by its reference."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from townhall.cases.services import case_acknowledge, case_note_add, case_open

pytestmark = pytest.mark.django_db


def test_home_lists_active_services_by_group_in_few_queries(
    client: Client, town: Any, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(4):  # services, groups, popularity; public notices
        response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Pothole" in html and "No heat" in html
    assert html.index("Housing") < html.index("Streets")


def test_tracking_shows_status_promise_and_public_events_only(
    client: Client, pothole: Any, caseworker: Any
) -> None:
    case = case_open(
        service_type=pothole, channel="web", answers={"size": "small"}, description="Hole"
    )
    case_acknowledge(case_id=case.pk)
    case_note_add(case=case, text="Internal: awkward resident", actor=caseworker)
    case_note_add(case=case, text="Crew booked for Tuesday", actor=caseworker, public=True)
    response = client.get("/track/", {"reference": case.reference})
    html = response.content.decode()
    assert response.status_code == 200
    assert case.reference in html and "Acknowledged" in html
    assert "We confirmed your request" in html
    assert "We aim to finish by" in html
    assert "We are late" not in html
    assert "Crew booked for Tuesday" in html
    assert "awkward" not in html


def test_an_unknown_reference_is_a_polite_form_error(client: Client, town: Any) -> None:
    response = client.get("/track/", {"reference": "TH-26-999999"})
    assert response.status_code == 404
    assert "We could not find a request with that reference" in response.content.decode()


def test_an_empty_reference_is_a_form_error_not_a_crash(client: Client, town: Any) -> None:
    response = client.get("/track/", {"reference": ""})
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()


def test_health_reports_the_database(client: Client) -> None:
    assert client.get("/healthz").json()["status"] == "ok"


def test_an_overdue_request_says_so(client: Client, pothole: Any) -> None:
    from datetime import UTC, datetime

    case = case_open(
        service_type=pothole,
        channel="web",
        answers={"size": "small"},
        description="Old hole",
        opened_at=datetime(2020, 1, 6, 15, tzinfo=UTC),
    )
    html = client.get("/track/", {"reference": case.reference}).content.decode()
    assert "We are late with this, sorry" in html


def test_a_status_change_says_the_new_status_and_its_note(
    client: Client, pothole: Any, caseworker: Any
) -> None:
    from townhall.cases.services import case_transition

    case = case_open(
        service_type=pothole, channel="web", answers={"size": "small"}, description="x"
    )
    case_transition(case=case, to="in_progress", actor=caseworker, note="Crew on site")
    html = client.get("/track/", {"reference": case.reference}).content.decode()
    assert "Status: In progress. Crew on site" in html
