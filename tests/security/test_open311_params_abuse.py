"""Bad Open311 parameters of every kind get a GeoReport error list, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from townhall.open311.keys import api_key_issue

pytestmark = pytest.mark.django_db

GOOD = {"service_code": "POTHOLE", "lat": "42.36", "long": "-71.09", "description": "Hole"}


@pytest.fixture
def key(town: Any) -> str:
    return api_key_issue(name="Fuzzer")[1]


@pytest.mark.parametrize(
    "bad",
    [
        {"lat": "nan"},
        {"lat": "inf", "long": "-inf"},
        {"lat": "1e400"},
        {"lat": "91"},
        {"long": "0x10"},
        {"lat": "\x00"},
        {"lat": "４２"},
        {"lat": ""},
        {"service_code": ""},
        {"service_code": "x" * 10_000},
        {"description": "x" * 100_000},
        {"email": "not an email"},
        {"email": "a@" + "b" * 500 + ".com"},
        {"phone": "\x00" * 50},
        {"address_id": "-1"},
        {"attribute[x]": "1"},
        {"attribute[]": "1"},
        {"media_url": "javascript:alert(1)"},
        {"device_id": "x" * 5000},
    ],
)
def test_a_bad_post_gets_an_error_list(client: Client, key: str, bad: dict[str, str]) -> None:
    data = {"api_key": key, **GOOD, **bad}
    response = client.post("/open311/v2/requests.json", data)
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body, list) and body[0]["description"]


@pytest.mark.parametrize(
    "query",
    [
        {"start_date": "yesterday"},
        {"start_date": "2026-13-45T99:99:99Z"},
        {"start_date": "9999-12-31T23:59:59+14:00"},
        {"start_date": "9999-12-31T00:00:00Z"},
        {"start_date": "0001-01-01T00:00:00-14:00"},
        {"start_date": "2026-01-02T00:00:00Z", "end_date": "2025-01-01T00:00:00Z"},
        {"status": "open,bogus"},
        {"status": ","},
        {"service_request_id": "," * 5000},
        {"service_request_id": ",".join(str(i) for i in range(1000))},
        {"page_size": "-1"},
        {"page_size": "1e9"},
        {"page": "99999999999999999999999"},
        {"lat": "nan", "long": "1", "radius": "1"},
        {"radius": "-5"},
        {"extensions": "maybe"},
        {"updated_after": "\x00"},
        {"end_date": "0001-01-01T00:00:00Z"},
        {"updated_before": "9999-12-31T23:59:59Z"},
    ],
)
def test_a_bad_query_gets_an_error_list(client: Client, town: Any, query: dict[str, str]) -> None:
    response = client.get("/open311/v2/requests.json", query)
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body, list) and body[0]["description"]
    xml = client.get("/open311/v2/requests.xml", query)
    assert xml.status_code < 500


def test_a_date_at_the_end_of_time_is_out_of_range(client: Client, town: Any) -> None:
    response = client.get("/open311/v2/requests.json", {"start_date": "9999-12-31T00:00:00Z"})
    assert response.status_code == 400
    assert response.json()[0]["description"] == "start_date is out of range."


def test_bytes_that_are_not_utf8_get_an_error_list(client: Client, key: str) -> None:
    body = f"api_key={key}&service_code=POTHOLE&lat=42.36&long=-71.09&description=%ff%fe%80"
    response = client.post(
        "/open311/v2/requests.json", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code < 500, response.content[:300]
    query = client.get("/open311/v2/requests.json?service_code=%ff%fe&start_date=%80")
    assert query.status_code < 500, query.content[:300]
