"""The forwarding admin: secrets are write-only, bad input is a form error (never a 500),
the connection test, and resend / withdraw from the forward list."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.forwarding.conftest import API_KEY, INSIDE, SQUARE, FakeOpen311, Reply
from townhall.cases.services import case_open
from townhall.forwarding.models import Body, Forward, ForwardState, RoutingRule
from townhall.forwarding.sending import forward_send
from townhall.people.models import Channel

pytestmark = pytest.mark.django_db


def _form(**extra: Any) -> dict[str, Any]:
    data = {
        "name": "County",
        "slug": "county2",
        "kind": "open311",
        "active": "on",
        "public_name": "",
        "public_note": "",
        "boundary": json.dumps(SQUARE),
        "endpoint": "https://county.example.org/open311/v2/",
        "jurisdiction_id": "",
        "api_key": "first-key-123456",
        "inbound_secret": "",
        "status_map": "{}",
        "poll_seconds": "900",
        "timeout_seconds": "10",
        "mappings-TOTAL_FORMS": "0",
        "mappings-INITIAL_FORMS": "0",
        "mappings-MIN_NUM_FORMS": "0",
        "mappings-MAX_NUM_FORMS": "1000",
    }
    data.update(extra)
    return data


def test_a_body_is_added_and_its_key_never_shown_again(admin_client: Client, town: Any) -> None:
    response = admin_client.post(reverse("admin:forwarding_body_add"), _form())
    assert response.status_code == 302, response.content[:2000]
    body = Body.objects.get(slug="county2")
    assert body.api_key == "first-key-123456"
    page = admin_client.get(reverse("admin:forwarding_body_change", args=[body.pk]))
    assert page.status_code == 200 and b"first-key-123456" not in page.content
    # Saved again with the field empty: the key is kept.
    url = reverse("admin:forwarding_body_change", args=[body.pk])
    assert admin_client.post(url, _form(api_key="")).status_code == 302
    body.refresh_from_db()
    assert body.api_key == "first-key-123456"
    assert admin_client.post(url, _form(api_key="", clear_secrets="on")).status_code == 302
    body.refresh_from_db()
    assert body.api_key == ""
    listing = admin_client.get(reverse("admin:forwarding_body_changelist"))
    assert listing.status_code == 200 and b"first-key" not in listing.content


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("boundary", json.dumps({"type": "Point", "coordinates": [1, 2]})),
        ("boundary", json.dumps({"type": "Polygon", "coordinates": [[[500, 500], [1, 1]]]})),
        ("boundary", "not json at all"),
        ("endpoint", "ftp://county.example.org/"),
        ("endpoint", "javascript:alert(1)"),
        ("endpoint", ""),
        ("status_map", json.dumps(["open"])),
        ("status_map", json.dumps({"open": 3})),
        ("timeout_seconds", "0"),
        ("timeout_seconds", "1e9"),
        ("poll_seconds", "-5"),
    ],
)
def test_bad_input_is_a_form_error(admin_client: Client, town: Any, field: str, value: str) -> None:
    response = admin_client.post(reverse("admin:forwarding_body_add"), _form(**{field: value}))
    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert not Body.objects.filter(slug="county2").exists()


def test_a_mapping_with_bad_attributes_is_refused(admin_client: Client, pothole: Any) -> None:
    data = _form(
        **{
            "mappings-TOTAL_FORMS": "1",
            "mappings-0-service_type": str(pothole.pk),
            "mappings-0-remote_code": "ROAD",
            "mappings-0-attributes": json.dumps({"size": 5}),
        }
    )
    response = admin_client.post(reverse("admin:forwarding_body_add"), data)
    assert response.status_code == 200 and not Body.objects.exists()
    data["mappings-0-attributes"] = json.dumps({"size": {"code": "sz", "values": {"large": "L"}}})
    assert admin_client.post(reverse("admin:forwarding_body_add"), data).status_code == 302
    assert Body.objects.get().mappings.get().remote_code == "ROAD"


def test_the_connection_test_counts_services_and_hides_the_key(
    admin_client: Client, county: Body, remote: FakeOpen311
) -> None:
    remote.replies.append(Reply(200, [{"service_code": "a"}, {"service_code": "b"}]))
    url = reverse("admin:forwarding_body_changelist")
    response = admin_client.post(
        url, {"action": "test_connection", "_selected_action": [county.pk]}, follow=True
    )
    assert b"2 services" in response.content
    remote.replies.append(Reply(401, [{"description": f"bad key {API_KEY}"}]))
    response = admin_client.post(
        url, {"action": "test_connection", "_selected_action": [county.pk]}, follow=True
    )
    assert response.status_code == 200 and API_KEY.encode() not in response.content
    assert b"bad key ***" in response.content


def test_rule_and_forward_screens_load_and_actions_work(
    admin_client: Client, county_rule: RoutingRule, pothole: Any, remote: FakeOpen311
) -> None:
    for name in ("routingrule_changelist", "routingrule_add", "forward_changelist"):
        assert admin_client.get(reverse(f"admin:forwarding_{name}")).status_code == 200
    assert (
        admin_client.get(
            reverse("admin:forwarding_routingrule_change", args=[county_rule.pk])
        ).status_code
        == 200
    )
    case = case_open(
        service_type=pothole, channel=Channel.OPEN311, answers={"size": "small"}, **INSIDE
    )
    forward = Forward.objects.get(case=case)
    remote.replies.append(Reply(400, [{"description": "no"}]))
    forward_send(forward.pk)
    page = admin_client.get(reverse("admin:forwarding_forward_change", args=[forward.pk]))
    assert page.status_code == 200 and b"no" in page.content
    url = reverse("admin:forwarding_forward_changelist")
    admin_client.post(url, {"action": "resend", "_selected_action": [forward.pk]})
    forward.refresh_from_db()
    assert forward.state == ForwardState.PENDING
    admin_client.post(url, {"action": "withdraw", "_selected_action": [forward.pk]})
    forward.refresh_from_db()
    assert forward.state == ForwardState.WITHDRAWN
    # Withdrawing again: a message, not a 500.
    response = admin_client.post(
        url, {"action": "withdraw", "_selected_action": [forward.pk]}, follow=True
    )
    assert response.status_code == 200
    assert admin_client.get(reverse("admin:forwarding_forward_add")).status_code == 403
