"""Open311 parameters are checked together: every bad one is reported at once."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest
from django.test import Client

from tests.open311.test_post import post
from townhall.cases.models import Case
from townhall.open311.keys import api_key_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(town: Any) -> str:
    return api_key_issue(name="FixMyStreet")[1]


def test_every_bad_post_parameter_is_listed_at_once(client: Client, key: str) -> None:
    response = post(client, key, lat="north", long="west", description="x" * 4001)
    assert response.status_code == 400
    assert response.json() == [
        {"code": 400, "description": "lat must be a decimal number."},
        {"code": 400, "description": "long must be a decimal number."},
        {"code": 400, "description": "description must be at most 4000 characters."},
    ]
    assert Case.objects.count() == 0


def test_the_list_is_the_specs_xml_too(client: Client, key: str) -> None:
    response = post(client, key, url="/open311/v2/requests.xml", service_code=" ", lat="x")
    assert response.status_code == 400
    root = ElementTree.fromstring(response.content)
    assert root.tag == "errors"
    assert [e.findtext("description") for e in root] == [
        "service_code is required.",
        "lat must be a decimal number.",
    ]


def test_a_missing_service_code_is_required(client: Client, key: str) -> None:
    data = {"api_key": key, "lat": "42.36", "long": "-71.09"}
    response = client.post("/open311/v2/requests.json", data)
    assert response.json() == [{"code": 400, "description": "service_code is required."}]


def test_every_bad_filter_is_listed_at_once(client: Client, town: Any) -> None:
    response = client.get(
        "/open311/v2/requests.json",
        {"status": "pending", "page_size": "0", "start_date": "2026-13-45T00:00:00"},
    )
    assert response.status_code == 400
    assert [e["description"] for e in response.json()] == [
        "page_size must be a whole number from 1 to 1000.",
        "status must be open, closed or both (comma-separated).",
        "start_date must be a W3C date-time such as 2026-11-23T08:00:00-05:00.",
    ]


def test_ids_override_the_filters_but_not_paging(client: Client, town: Any) -> None:
    ok = client.get("/open311/v2/requests.json", {"service_request_id": "TH-1", "status": "x"})
    assert ok.status_code == 200
    bad = client.get("/open311/v2/requests.json", {"service_request_id": "TH-1", "page": "0"})
    assert bad.json() == [
        {"code": 400, "description": "page must be a whole number from 1 to 1000000."}
    ]
    many = ",".join(f"TH-26-{n}" for n in range(1001))
    too_many = client.get("/open311/v2/requests.json", {"service_request_id": many})
    assert too_many.json()[0]["description"] == "Ask for at most 1000 service_request_id at once."
