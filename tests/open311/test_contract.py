"""GeoReport v2 contract: every JSON response validates against the official schemas
(vendored in tests/open311/schemas), XML uses the spec's element names, errors are the
spec's list, and nothing private leaks."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.conftest import SMALL_TOWN
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.services import case_acknowledge, case_note_add, case_open, case_transition
from townhall.catalog.selectors import catalog_cache_clear
from townhall.catalog.services import catalog_import

pytestmark = pytest.mark.django_db
SCHEMAS = Path(__file__).parent / "schemas"
REGISTRY: Registry[Any] = Registry().with_resources(
    (p.name, Resource.from_contents(json.loads(p.read_text()), default_specification=DRAFT4))
    for p in SCHEMAS.glob("*.json")
)


def validator(name: str) -> Draft4Validator:
    return Draft4Validator(json.loads((SCHEMAS / name).read_text()), registry=REGISTRY)


def assert_valid(schema: str, data: Any) -> None:
    errors = sorted(validator(schema).iter_errors(data), key=str)
    assert errors == [], [e.message for e in errors]


@pytest.fixture
def cases(pothole: Any, no_heat: Any, resident: Any, caseworker: Any) -> list[Any]:
    now = datetime.now(UTC)
    first = case_open(
        service_type=pothole,
        channel="web",
        description="Deep hole by the library",
        answers={"size": "large"},
        lat=42.36,
        long=-71.09,
        address="12 Elm Street",
        reporter=resident,
        opened_at=now,
    )
    case_acknowledge(case_id=first.pk)
    case_note_add(case=first, text="Resident is rude", actor=caseworker)
    case_transition(case=first, to=CaseStatus.IN_PROGRESS, actor=caseworker, note="Crew on site")
    second = case_open(
        service_type=no_heat, channel="phone", description="Cold flat", opened_at=now
    )
    case_transition(case=second, to=CaseStatus.REJECTED, actor=caseworker, note="Landlord fixed it")
    return [first, second]


def get_json(client: Client, url: str, **params: Any) -> Any:
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def test_services_validate_and_say_which_have_questions(client: Client, town: Any) -> None:
    data = get_json(client, "/open311/v2/services.json")
    assert_valid("services.json", data)
    by_code = {s["service_code"]: s for s in data}
    assert by_code["pothole"]["metadata"] is True
    assert by_code["no_heat"]["metadata"] is False
    assert by_code["pothole"]["group"] == "Streets"


def test_a_service_definition_validates_with_its_values(client: Client, town: Any) -> None:
    data = get_json(client, "/open311/v2/services/pothole.json")
    assert_valid("service-definition.json", data)
    size = data["attributes"][0]
    assert (size["code"], size["datatype"], size["required"]) == ("size", "singlevaluelist", True)
    assert size["values"] == [{"key": "small", "name": "Small"}, {"key": "large", "name": "Large"}]


def test_requests_validate_and_show_public_data_only(client: Client, cases: list[Any]) -> None:
    data = get_json(client, "/open311/v2/requests.json")
    assert_valid("requests.json", data)
    by_id = {r["service_request_id"]: r for r in data}
    first = by_id[cases[0].reference]
    assert first["status"] == "open"
    assert first["status_notes"] == "Crew on site"
    assert first["agency_responsible"] == "Public Works"
    assert (first["lat"], first["long"], first["address"]) == (42.36, -71.09, "12 Elm Street")
    assert by_id[cases[1].reference]["status"] == "closed"
    text = json.dumps(data)
    assert "rude" not in text and "rosa" not in text.lower() and "cw" not in text


def test_one_request_validates(client: Client, cases: list[Any]) -> None:
    data = get_json(client, f"/open311/v2/requests/{cases[0].reference}.json")
    assert_valid("requests.json", data)
    assert_valid("request.json", data[0])
    assert [r["service_request_id"] for r in data] == [cases[0].reference]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "open"}, [0]),
        ({"status": "closed"}, [1]),
        ({"status": "open,closed"}, [1, 0]),
        ({"service_code": "no_heat"}, [1]),
        ({"service_code": "pothole,no_heat"}, [1, 0]),
        ({"page_size": "1"}, [1]),
        ({"page_size": "1", "page": "2"}, [0]),
        ({"start_date": "2001-01-01T00:00:00Z", "end_date": "2001-02-01T00:00:00Z"}, []),
    ],
)
def test_request_filters(
    client: Client, cases: list[Any], params: dict[str, str], expected: list[int]
) -> None:
    data = get_json(client, "/open311/v2/requests.json", **params)
    assert [r["service_request_id"] for r in data] == [cases[i].reference for i in expected]


def test_a_list_of_ids_overrides_every_other_filter(client: Client, cases: list[Any]) -> None:
    ids = f"{cases[0].reference},{cases[1].reference},TH-26-999999,garbage"
    data = get_json(client, "/open311/v2/requests.json", service_request_id=ids, status="closed")
    assert sorted(r["service_request_id"] for r in data) == sorted(c.reference for c in cases)


def test_the_query_count_does_not_grow_with_the_page(
    client: Client, cases: list[Any], django_assert_max_num_queries: Any
) -> None:
    client.get("/open311/v2/requests.json")  # the catalogue is read once a minute per process
    # One query for the page, whatever its size (names come from the cached catalogue);
    # the extensions' history is one more.
    with django_assert_max_num_queries(1):
        client.get("/open311/v2/requests.json", {"page_size": "1"})
    with django_assert_max_num_queries(1):
        client.get("/open311/v2/requests.json", {"page_size": "1000"})
    with django_assert_max_num_queries(2):
        client.get("/open311/v2/requests.json", {"page_size": "1000", "extensions": "true"})


def test_extensions_add_channel_detailed_status_and_public_history(
    client: Client, cases: list[Any]
) -> None:
    plain = get_json(client, f"/open311/v2/requests/{cases[0].reference}.json")
    assert "extended_attributes" not in plain[0]
    data = get_json(client, f"/open311/v2/requests/{cases[0].reference}.json", extensions="true")
    # Still a valid GeoReport request once the extension block is set aside.
    assert_valid("request.json", {k: v for k, v in data[0].items() if k != "extended_attributes"})
    extended = data[0]["extended_attributes"]
    assert extended["channel"] == "web"
    assert extended["detailed_status"] == "in_progress"
    notes = extended["notes"]
    assert [n["type"] for n in notes] == ["opened", "acknowledged", "status_changed"]
    assert notes[-1]["status"] == "in_progress"
    assert notes[-1]["description"] == "Crew on site"
    assert all(n["datetime"].endswith(("-05:00", "-04:00")) for n in notes)
    # The internal note and who wrote anything stay inside.
    assert "rude" not in json.dumps(data) and "cw" not in json.dumps(data)
    listed = get_json(client, "/open311/v2/requests.json", extensions="true")
    assert {r["extended_attributes"]["detailed_status"] for r in listed} == {
        "in_progress",
        "rejected",
    }


def test_extensions_in_xml_nest_notes(client: Client, cases: list[Any]) -> None:
    response = client.get(f"/open311/v2/requests/{cases[0].reference}.xml", {"extensions": "true"})
    tree = ElementTree.fromstring(response.content)
    notes = tree.findall("request/extended_attributes/notes/note")
    assert [n.findtext("type") for n in notes] == ["opened", "acknowledged", "status_changed"]
    assert tree.findtext("request/extended_attributes/detailed_status") == "in_progress"


@pytest.mark.parametrize(
    ("url", "params", "status", "needle"),
    [
        ("/open311/v2/services/nonexistent.json", {}, 404, "service_code 'nonexistent' not found"),
        ("/open311/v2/requests/TH-26-999999.json", {}, 404, "not found"),
        ("/open311/v2/requests.json", {"start_date": "yesterday"}, 400, "start_date must be"),
        (
            "/open311/v2/requests.json",
            {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
            400,
            "at most 90 days",
        ),
        ("/open311/v2/requests.json", {"status": "pending"}, 400, "status must be"),
        ("/open311/v2/requests.json", {"extensions": "maybe"}, 400, "extensions must be"),
        ("/open311/v2/requests.json", {"page_size": "5000"}, 400, "page_size"),
        (
            "/open311/v2/services.json",
            {"jurisdiction_id": "elsewhere.example"},
            404,
            "not served here",
        ),
        ("/open311/v2/services.yaml", {}, 404, "Unknown format"),
        ("/open311/v2/services.json", {"jurisdiction_id": "\x00"}, 400, "NUL character"),
    ],
)
def test_errors_are_the_specs_list_with_a_precise_description(
    client: Client, town: Any, url: str, params: dict[str, str], status: int, needle: str
) -> None:
    response = client.get(url, params)
    assert response.status_code == status
    [error] = response.json()
    assert error["code"] == status
    assert needle in error["description"]


def test_errors_follow_the_requested_format(client: Client, town: Any) -> None:
    response = client.get("/open311/v2/services/nonexistent.xml")
    assert response.status_code == 404
    root = ElementTree.fromstring(response.content)
    assert root.tag == "errors"
    assert [child.tag for child in root[0]] == ["code", "description"]


def test_several_councils_need_a_jurisdiction_id(client: Client, town: Any) -> None:
    other = copy.deepcopy(SMALL_TOWN)
    other["jurisdiction"].update(
        slug="otherton", open311_id="otherton.example.org", name="Otherton"
    )
    catalog_import(spec=other)
    response = client.get("/open311/v2/services.json")
    assert response.status_code == 400
    assert "jurisdiction_id is required" in response.json()[0]["description"]
    data = get_json(client, "/open311/v2/services.json", jurisdiction_id="otherton.example.org")
    assert {s["service_code"] for s in data} == {"pothole", "no_heat"}


@pytest.mark.parametrize(
    ("url", "root", "item", "fields"),
    [
        (
            "/open311/v2/services.xml",
            "services",
            "service",
            {"service_code", "metadata", "type", "group"},
        ),
        (
            "/open311/v2/requests.xml",
            "service_requests",
            "request",
            {"service_request_id", "status", "lat", "long"},
        ),
        ("/open311/v2/discovery.xml", "discovery", "changeset", set()),
    ],
)
def test_xml_uses_the_specs_element_names(
    client: Client, cases: list[Any], url: str, root: str, item: str, fields: set[str]
) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    tree = ElementTree.fromstring(response.content)
    assert tree.tag == root
    assert tree[0].tag == item
    assert fields <= {child.tag for child in tree[0]}


def test_a_service_definition_in_xml_nests_attributes_and_values(client: Client, town: Any) -> None:
    tree = ElementTree.fromstring(client.get("/open311/v2/services/pothole.xml").content)
    assert tree.tag == "service_definition"
    attribute = tree.find("attributes/attribute")
    assert attribute is not None
    assert attribute.findtext("code") == "size"
    assert [v.findtext("key") for v in attribute.findall("values/value")] == ["small", "large"]


def test_discovery_lists_this_endpoint_and_its_formats(client: Client) -> None:
    data = get_json(client, "/open311/v2/discovery.json")
    [endpoint] = data["endpoints"]
    assert endpoint["url"].endswith("/open311/v2/")
    assert endpoint["formats"] == ["application/json", "text/xml"]


def test_the_openapi_description_is_published(client: Client) -> None:
    data = client.get("/open311/v2/openapi.json").json()
    assert data["openapi"].startswith("3.")
    assert "/open311/v2/requests.{format}" in data["paths"]
    assert data["servers"][0]["url"] == "http://127.0.0.1:8000"


def test_unusual_but_valid_time_zone_offsets_are_accepted(client: Client, cases: list[Any]) -> None:
    # Found by fuzzing: ISO 8601 allows offsets PostgreSQL does not; we compare in UTC.
    data = get_json(client, "/open311/v2/requests.json", end_date="2000-01-01T00:00:01+23:44")
    assert data == []


@pytest.mark.parametrize(
    "zone",
    ["America/New_York", "America/St_Johns", "Asia/Kolkata", "Pacific/Chatham", "UTC"],
)
def test_times_are_written_in_the_jurisdictions_zone(
    client: Client, town: Any, pothole: Any, zone: str
) -> None:
    """On PostgreSQL the database writes these strings; they must be Python's, to the letter."""
    town.timezone = zone
    town.save()
    catalog_cache_clear()
    moments = [
        datetime(2026, 1, 17, 0, 3, 41, 999_999, tzinfo=UTC),
        datetime(2026, 7, 1, 12, 0, 0, tzinfo=UTC),
        datetime(1850, 3, 1, 8, 30, 0, tzinfo=UTC),  # local mean time: offsets with seconds
    ]
    cases = [
        case_open(
            service_type=pothole,
            channel="web",
            answers={"size": "small"},
            lat=42.36,
            long=-71.09,
            opened_at=moment,
        )
        for moment in moments
    ]
    data = get_json(
        client,
        "/open311/v2/requests.json",
        service_request_id=",".join(c.reference for c in cases),
    )
    served = {r["service_request_id"]: r["requested_datetime"] for r in data}
    assert served == {
        c.reference: m.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")
        for c, m in zip(cases, moments, strict=True)
    }
