"""POST requests: keys, validation in the spec's error format, and cases through the services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client

from townhall.cases.models import Case
from townhall.catalog.models import ServiceType
from townhall.open311.keys import api_key_issue
from townhall.open311.models import ApiKey
from townhall.people.models import Citizen

pytestmark = pytest.mark.django_db
URL = "/open311/v2/requests.json"


@pytest.fixture
def key(town: Any) -> str:
    return api_key_issue(name="FixMyStreet")[1]


def post(client: Client, key: str, url: str = URL, **fields: Any) -> Any:
    data = {
        "api_key": key,
        "service_code": "pothole",
        "lat": "42.36",
        "long": "-71.09",
        "attribute[size]": "large",
    }
    data.update(fields)
    return client.post(url, {k: v for k, v in data.items() if v is not None})


def test_a_request_becomes_a_case_with_its_reporter(client: Client, key: str) -> None:
    response = post(
        client, key, email="Rosa@Example.org", first_name="Rosa", description="Big hole"
    )
    assert response.status_code == 200, response.content
    [item] = response.json()
    case = Case.objects.get()
    assert item["service_request_id"] == case.reference
    assert (case.channel, case.answers, case.description) == (
        "open311",
        {"size": "large"},
        "Big hole",
    )
    assert case.reporter == Citizen.objects.get(contact_points__value="rosa@example.org")
    # and it is served back at once
    [served] = client.get(f"/open311/v2/requests/{case.reference}.json").json()
    assert served["description"] == "Big hole"


def test_a_media_url_is_kept_and_served_back(client: Client, key: str) -> None:
    photo = "https://photos.example.org/pothole.jpg"
    response = post(client, key, media_url=photo)
    assert response.status_code == 200, response.content
    reference = response.json()[0]["service_request_id"]
    [served] = client.get(f"/open311/v2/requests/{reference}.json").json()
    assert served["media_url"] == photo


def test_list_answers_and_xml(client: Client, key: str) -> None:
    response = post(client, key, url="/open311/v2/requests.xml", **{"attribute[depth_cm]": "12"})
    assert response.status_code == 200
    assert b"<service_request_id>TH-" in response.content
    assert Case.objects.get().answers == {"size": "large", "depth_cm": 12}


@pytest.mark.parametrize(
    ("fields", "status", "needle"),
    [
        ({"api_key": ""}, 403, "api_key is required"),
        ({"api_key": "made-up"}, 403, "not valid"),
        ({"service_code": ""}, 400, "service_code is required"),
        ({"service_code": "unicorns"}, 404, "service_code 'unicorns' not found"),
        ({"lat": None, "long": None}, 400, "A location is required"),
        ({"lat": "north"}, 400, "lat must be a decimal number"),
        ({"attribute[size]": "huge"}, 400, "size: Choose one of"),
        ({"attribute[size]": None}, 400, "size: How big is it?: this answer is required"),
        ({"description": "x" * 4001}, 400, "at most 4000"),
        ({"email": "not-an-address"}, 400, "email:"),
        ({"lat": "95", "long": "0"}, 400, "location:"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url: Give a web address"),
    ],
)
def test_bad_requests_get_precise_errors_and_write_nothing(
    client: Client, key: str, fields: dict[str, Any], status: int, needle: str
) -> None:
    response = post(client, key, **fields)
    assert response.status_code == status
    descriptions = [e["description"] for e in response.json()]
    assert any(needle in d for d in descriptions), descriptions
    assert all(e["code"] == status for e in response.json())
    assert Case.objects.count() == 0
    assert Citizen.objects.count() == 0


def test_a_revoked_key_is_refused(client: Client, key: str) -> None:
    ApiKey.objects.update(revoked_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert post(client, key).status_code == 403


def test_a_key_revoked_in_the_admin_stops_working_at_once(
    client: Client, key: str, admin_client: Client
) -> None:
    assert post(client, key).status_code == 200  # now known to this process
    api_key = ApiKey.objects.get()
    response = admin_client.post(
        f"/admin/open311/apikey/{api_key.pk}/change/",
        {
            "name": api_key.name,
            "contact": "",
            "requests_per_minute": "60",
            "revoked_at_0": "2026-01-01",
            "revoked_at_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert post(client, key).status_code == 403


def test_each_key_has_a_rate_limit(client: Client, town: Any) -> None:
    _, secret = api_key_issue(name="Tight", requests_per_minute=2)
    # within one minute, whatever the wall clock says
    with time_machine.travel(datetime(2026, 11, 23, 12, 0, 5, tzinfo=UTC), tick=False):
        statuses = [post(client, secret).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_a_batch_service_answers_with_a_token_that_leads_to_the_request(
    client: Client, key: str
) -> None:
    ServiceType.objects.filter(code="no_heat").update(open311_type="batch")
    response = post(client, key, service_code="no_heat", **{"attribute[size]": None})
    [item] = response.json()
    assert "service_request_id" not in item
    [found] = client.get(f"/open311/v2/tokens/{item['token']}.json").json()
    assert found["service_request_id"] == Case.objects.get().reference
    assert client.get("/open311/v2/tokens/nope.json").status_code == 404
