"""What residents see of forwarding: "This goes to <body>, who will reply" on the report
form, "Sent to <body> on <date>" on their case page, Open311's agency_responsible; never
the remote's internals."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.test import Client

from tests.forwarding.fwdwork_fixtures import body_make, case_make, forward_make
from townhall.forwarding.models import RoutingRule
from townhall.forwarding.routing import routing_cache_clear
from townhall.portal.links import track_token

pytestmark = pytest.mark.django_db
# Playwright runs an event loop in this thread; the ORM calls here block all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# A square around the test town's centre (42.36, -71.09), [long, lat].
AROUND = {
    "type": "Polygon",
    "coordinates": [[[-71.2, 42.3], [-71.0, 42.3], [-71.0, 42.4], [-71.2, 42.4], [-71.2, 42.3]]],
}
INTERNALS = ("WO-1001", "(internal)", "investigating", "Timeout talking to", "secret")


@pytest.fixture
def county(town: Any, pothole: Any) -> Any:
    routing_cache_clear()
    body = body_make("county-works", boundary=AROUND)
    rule = RoutingRule.objects.create(body=body)
    rule.service_types.add(pothole)
    routing_cache_clear()
    yield body
    routing_cache_clear()


def test_the_report_form_says_who_will_reply_once_service_and_place_are_known(
    county: Any, no_heat: Any
) -> None:
    inside = Client().get("/report/pothole/", {"lat": "42.36", "long": "-71.09"})
    assert inside.status_code == 200
    html = inside.content.decode()
    assert "This goes to County Works, who will reply." in html
    assert "They mend the roads and will reply to you." in html
    assert "(internal)" not in html
    # Before the place is chosen: nothing said yet.
    where = Client().get("/report/pothole/").content.decode()
    assert "This goes to" not in where
    # Outside the body's boundary, or another service: the council handles it, no line.
    outside = Client().get("/report/pothole/", {"lat": "42.20", "long": "-71.09"})
    assert "This goes to" not in outside.content.decode()
    other = Client().get("/report/no_heat/", {"lat": "42.36", "long": "-71.09"})
    assert "This goes to" not in other.content.decode()


def test_a_switched_off_body_is_not_announced(county: Any) -> None:
    county.active = False
    county.save()
    routing_cache_clear()
    html = Client().get("/report/pothole/", {"lat": "42.36", "long": "-71.09"}).content.decode()
    assert "This goes to" not in html


def test_the_resident_sees_where_it_went_and_when_but_no_internals(
    county: Any, pothole: Any
) -> None:
    case = case_make(pothole)
    forward_make(
        case,
        county,
        remote_id="WO-1001",
        remote_status="investigating",
        last_error="Timeout talking to the county",
    )
    for url in (f"/requests/{track_token(case)}/", f"/track/?reference={case.reference}"):
        page = Client().get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        assert "Sent to County Works on" in html, url
        for secret in INTERNALS:
            assert secret not in html, (url, secret)


def test_a_forward_not_sent_or_withdrawn_is_not_shown(county: Any, pothole: Any) -> None:
    pending = case_make(pothole, "Pending one")
    forward_make(pending, county, state="pending", sent_at=None)
    withdrawn = case_make(pothole, "Withdrawn one")
    forward_make(withdrawn, county, state="withdrawn")
    for case in (pending, withdrawn):
        html = Client().get(f"/requests/{track_token(case)}/").content.decode()
        assert "Sent to" not in html


def test_open311_names_the_body_as_agency_responsible(county: Any, pothole: Any) -> None:
    forwarded = case_make(pothole, "Forwarded")
    forward_make(forwarded, county, remote_id="WO-1001")
    kept = case_make(pothole, "Kept")
    one = Client().get(f"/open311/v2/requests/{forwarded.reference}.json").json()
    assert one[0]["agency_responsible"] == "County Works"
    listed = {
        r["service_request_id"]: r["agency_responsible"]
        for r in Client().get("/open311/v2/requests.json").json()
    }
    assert listed[forwarded.reference] == "County Works"
    assert listed[kept.reference] == "Public Works"
    raw = Client().get("/open311/v2/requests.json", {"extensions": "true"}).content.decode()
    for secret in INTERNALS:
        assert secret not in raw


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_resident_pages_pass_axe_in_chromium(
    live_server: Any, browser: Any, county: Any, pothole: Any
) -> None:
    from tests.browser import assert_accessible

    case = case_make(pothole)
    forward_make(case, county, remote_id="WO-1001")
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/report/pothole/?lat=42.36&long=-71.09")
    assert "This goes to County Works" in page.locator("#route").inner_text()
    assert_accessible(page)
    page.goto(f"{live_server.url}/requests/{track_token(case)}/")
    assert "Sent to County Works on" in page.locator("#forwarded").inner_text()
    assert_accessible(page)
    context.close()
