"""The public reports map and list (/reports/) and the open-data export (/open-data/):
public fields only, never a personal service nor a resident's details; filters in the URL;
bad input answered 400, never 500."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from tests.insights.dash_data import fact
from townhall.cases.models import Case
from townhall.cases.services import case_open, case_public_summary_set
from townhall.catalog.models import ServiceType
from townhall.catalog.selectors import catalog_cache_clear

pytestmark = pytest.mark.django_db

SECRET_EMAIL = "rosa.private@example.org"
SECRET_PHONE = "617-555-0199"
ABUSE = f"Hole by my gate, call me on {SECRET_PHONE} or write to {SECRET_EMAIL}"


@pytest.fixture
def reports(pothole: Any, no_heat: Any) -> dict[str, Any]:
    """Two potholes in two wards (one with a resident's contacts in its words), and a
    no-heat report about someone's home (a personal service)."""
    ServiceType.objects.filter(pk=no_heat.pk).update(personal=True)
    catalog_cache_clear()
    leaky = case_open(
        service_type=pothole,
        channel="web",
        answers={"size": "small"},
        description=ABUSE,
        lat=42.3601,
        long=-71.0942,
        address="1 Elm Street",
    )
    other = case_open(
        service_type=pothole,
        channel="web",
        answers={"size": "large"},
        description="Huge pothole",
        lat=42.3611,
        long=-71.0952,
    )
    home = case_open(
        service_type=no_heat,
        channel="phone",
        description=f"No heat at 7 Oak Road, {SECRET_PHONE}",
        lat=42.3621,
        long=-71.0962,
    )
    fact(pothole, source="live", case=leaky, system="", external_id="", area="Ward 1")
    fact(pothole, source="live", case=other, system="", external_id="", area="Ward 2")
    fact(no_heat, source="live", case=home, system="", external_id="", area="Ward 1", personal=True)
    return {"leaky": leaky, "other": other, "home": home}


def test_the_list_shows_public_reports_with_links_to_their_public_page(
    client: Client, reports: Any
) -> None:
    response = client.get("/reports/")
    assert response.status_code == 200
    html = response.content.decode()
    for case in (reports["leaky"], reports["other"]):
        assert f'href="/track/?reference={case.reference}"' in html
    assert reports["home"].reference not in html
    assert "No heat" not in html.split("<main")[1].split("</form>")[1]
    assert SECRET_EMAIL not in html and SECRET_PHONE not in html
    points = json.loads(re.search(r'id="reports-points"[^>]*>(.*?)</script>', html, re.S)[1])
    assert sorted(p["reference"] for p in points) == sorted(
        [reports["leaky"].reference, reports["other"].reference]
    )
    assert set(points[0]) == {"reference", "service", "status", "lat", "long", "url"}


def test_the_navigation_links_to_the_reports(client: Client, town: Any) -> None:
    assert 'href="/reports/"' in client.get("/track/").content.decode()


def test_filters_by_area_service_and_status_round_trip(
    client: Client, reports: Any, pothole: Any
) -> None:
    html = client.get("/reports/", {"area": "Ward 2"}).content.decode()
    assert reports["other"].reference in html and reports["leaky"].reference not in html
    assert 'value="Ward 2" selected' in html
    html = client.get("/reports/", {"service": pothole.pk, "status": "open"}).content.decode()
    assert reports["other"].reference in html and reports["leaky"].reference in html
    assert f'<option value="{pothole.pk}" selected>' in html
    Case.objects.filter(pk=reports["other"].pk).update(status="resolved")
    html = client.get("/reports/", {"status": "closed"}).content.decode()
    assert reports["other"].reference in html and reports["leaky"].reference not in html
    # The personal service is not even offered as a filter, nor accepted.
    no_heat = ServiceType.objects.get(code="no_heat")
    assert client.get("/reports/", {"service": no_heat.pk}).status_code == 400


def test_pages_carry_the_filters(client: Client, pothole: Any, reports: Any) -> None:
    for n in range(21):
        case = case_open(
            service_type=pothole, channel="web", answers={"size": "small"}, description=f"H{n}"
        )
        fact(pothole, source="live", case=case, system="", external_id="", area="Ward 2")
    html = client.get("/reports/", {"area": "Ward 2"}).content.decode()
    assert "?area=Ward+2&amp;page=2" in html
    assert client.get("/reports/", {"area": "Ward 2", "page": "2"}).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        {"status": "deleted"},
        {"service": "abc"},
        {"service": "99999"},
        {"area": "Nowhere"},
        {"page": "0"},
        {"page": "-1"},
        {"page": "9999999999"},
        {"area": "x" * 5000},
    ],
)
def test_bad_filters_get_the_form_with_errors(client: Client, reports: Any, query: Any) -> None:
    response = client.get("/reports/", query)
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()


# --- open data ------------------------------------------------------------------------------


def test_open_data_json_has_public_fields_only(client: Client, reports: Any) -> None:
    response = client.get("/open-data/requests.json")
    assert response.status_code == 200
    items = response.json()
    ids = {i["service_request_id"] for i in items}
    assert ids == {reports["leaky"].reference, reports["other"].reference}
    body = response.content.decode()
    assert SECRET_EMAIL not in body and SECRET_PHONE not in body and "Oak Road" not in body
    assert set(items[0]) == {
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    }


def test_open_data_uses_the_summary_staff_approved(client: Client, reports: Any) -> None:
    case_public_summary_set(case=reports["leaky"], summary="Pothole by a garden gate.", actor=None)
    body = client.get("/open-data/requests.csv")
    text = b"".join(body.streaming_content).decode("utf-8-sig")
    assert "Pothole by a garden gate." in text
    assert SECRET_EMAIL not in text and SECRET_PHONE not in text
    assert "No heat" not in text and reports["home"].reference not in text


def test_open_data_csv_has_a_header_and_one_row_per_request(client: Client, reports: Any) -> None:
    response = client.get("/open-data/requests.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("service_request_id,status,status_notes,service_name")
    assert len(lines) == 3


def test_open_data_pages_with_a_cap(client: Client, reports: Any) -> None:
    first = client.get("/open-data/requests.json", {"page_size": "1"})
    assert len(first.json()) == 1
    assert "page=2" in first["Link"] and 'rel="next"' in first["Link"]
    second = client.get("/open-data/requests.json", {"page_size": "1", "page": "2"})
    assert len(second.json()) == 1
    assert first.json()[0]["service_request_id"] != second.json()[0]["service_request_id"]
    assert client.get("/open-data/requests.json", {"page_size": "1001"}).status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        {"start_date": "yesterday"},
        {"start_date": "2026-05-01", "end_date": "2026-01-01"},
        {"start_date": "2025-01-01", "end_date": "2026-01-01"},
        {"page": "0"},
        {"status": "secret"},
        {"jurisdiction_id": "elsewhere"},
        {"service_code": "\x00"},
    ],
)
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_open_data_bad_parameters_are_errors_in_the_callers_format(
    client: Client, reports: Any, query: Any, fmt: str
) -> None:
    response = client.get(f"/open-data/requests.{fmt}", query)
    assert 400 <= response.status_code < 500
    if fmt == "json":
        assert response.json()[0]["code"] == response.status_code
    else:
        assert response.content.decode().startswith("code,description")


def test_open_data_unknown_format_is_404(client: Client, town: Any) -> None:
    assert client.get("/open-data/requests.xlsx").status_code == 404


def test_the_list_and_the_open_data_share_the_public_read_limit(
    client: Client, reports: Any, settings: Any
) -> None:
    settings.TOWNHALL_RATE_LIMITS = {**settings.TOWNHALL_RATE_LIMITS, "open311_read": "3/minute"}
    assert client.get("/reports/").status_code == 200
    assert client.get("/open-data/requests.json").status_code == 200
    assert client.get("/reports/").status_code == 200
    assert client.get("/reports/").status_code == 429
    refused = client.get("/open-data/requests.csv")
    assert refused.status_code == 429 and refused.content.decode().startswith("code,description")
