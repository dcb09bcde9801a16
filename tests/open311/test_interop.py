"""Interoperability: the `georeport` client from PyPI, in JSON and XML, against a live server.

The client is someone else's reading of the spec: it builds its own URLs and query strings
and parses XML with xmltodict, so this catches what our own test client would not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from georeport import GeoReport

from tests.conftest import SMALL_TOWN
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.services import case_acknowledge, case_open, case_transition
from townhall.catalog.services import catalog_import

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def opened(pothole: Any, no_heat: Any, caseworker: Any) -> list[Any]:
    first = case_open(
        service_type=pothole,
        channel="web",
        description="Deep hole by the library",
        answers={"size": "large"},
        lat=42.36,
        long=-71.09,
        address="12 Elm Street",
    )
    case_acknowledge(case_id=first.pk)
    second = case_open(service_type=no_heat, channel="phone", description="Cold flat")
    case_transition(case=second, to=CaseStatus.REJECTED, actor=caseworker, note="Fixed already")
    return [first, second]


@pytest.fixture(params=["json", "xml"])
def client(request: Any, live_server: Any) -> GeoReport:
    return GeoReport(
        live_server.url + "/open311/v2/",
        jurisdiction="testville.example.org",
        output_format=request.param,
    )


def test_the_client_lists_services_and_reads_a_definition(client: GeoReport, town: Any) -> None:
    services = client.get_service_list()
    assert {s["service_code"] for s in services} == {"pothole", "no_heat"}
    definition = client.get_service_definition("pothole")
    attributes = definition["attributes"]
    # xmltodict turns one <attribute> into a dict and several into a list.
    first = attributes[0] if isinstance(attributes, list) else attributes["attribute"]
    if isinstance(first, list):
        first = first[0]
    assert first["code"] == "size"


def test_the_client_searches_and_reads_requests(client: GeoReport, opened: list[Any]) -> None:
    start = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    found = client.get_service_requests(start_date=start, end_date=end, status="open")
    # xmltodict gives a dict for a single <request>, a list for several.
    items = found if isinstance(found, list) else [found]
    assert [r["service_request_id"] for r in items] == [opened[0].reference]
    both = client.get_service_requests(
        service_request_id=f"{opened[0].reference},{opened[1].reference}"
    )
    assert {r["service_request_id"] for r in both} == {c.reference for c in opened}
    one = client.get_service_request(opened[1].reference)
    assert (one["status"], one["status_notes"], one["service_code"]) == (
        "closed",
        "Fixed already",
        "no_heat",
    )
    by_code = client.get_service_requests(service_code="pothole")
    by_code = by_code if isinstance(by_code, list) else [by_code]
    assert float(by_code[0]["lat"]) == 42.36


def test_the_client_sees_errors_as_http_errors(client: GeoReport, town: Any) -> None:
    with pytest.raises(requests.HTTPError) as raised:
        client.get_service_definition("unicorns")
    assert raised.value.response.status_code == 404
    assert b"unicorns" in raised.value.response.content


def test_several_jurisdictions_are_told_apart_by_the_client(live_server: Any, town: Any) -> None:
    other = {
        **SMALL_TOWN,
        "jurisdiction": {**SMALL_TOWN["jurisdiction"], "slug": "otherton", "open311_id": "o.org"},
    }
    catalog_import(spec=other)
    mine = GeoReport(live_server.url + "/open311/v2", jurisdiction="testville.example.org")
    assert len(mine.get_service_list()) == 2
    with pytest.raises(requests.HTTPError):
        GeoReport(live_server.url + "/open311/v2").get_service_list()
