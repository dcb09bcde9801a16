"""Partners' JSON messages are checked at the door: every problem at once, by field."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.intake.test_pipeline import partner, post_json  # noqa: F401 (a fixture)
from townhall.core.errors import ValidationFailed
from townhall.hooks.payloads import partner_message_check
from townhall.intake.models import InboundMessage, WebhookSource


def details(payload: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as raised:
        partner_message_check(payload)
    return raised.value.details


def test_every_problem_is_listed_under_its_field() -> None:
    found = details(
        {
            "text": 7.5,
            "id": ["x"],
            "sender": {"email": {"a": 1}, "handle": "@jo"},
            "location": {"lat": "north", "long": "inf"},
        }
    )
    assert found == {
        "text": ["Give a string."],
        "id": ["Give a string."],
        "sender.email": ["Give a string."],
        "location.lat": ["Give a decimal number."],
        "location.long": ["Give a decimal number."],
    }


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ([1, 2], "body", "Send a JSON object."),
        (
            {"text": "x", "sender": "jo"},
            "sender",
            "Give an object with name, email, phone or handle.",
        ),
        ({"text": "x", "location": [1]}, "location", "Give an object with lat, long or address."),
        ({"text": "x", "location": {"lat": 42}}, "location", "Give both lat and long, or neither."),
        ({"sender": {"name": "Jo"}}, "text", "Say what the message is about."),
        ({"text": "x" * 10_001}, "text", "Keep it under 10000 characters."),
    ],
)
def test_each_rule_in_the_partners_words(payload: Any, field: str, message: str) -> None:
    assert details(payload) == {field: [message]}


def test_a_good_message_is_read_as_text() -> None:
    message = partner_message_check(
        {"id": 12, "subject": " Bins ", "location": {"lat": "42.1", "long": -71}, "extra": 1}
    )
    assert (message.id, message.subject, message.location.lat, message.sender.name) == (
        "12",
        "Bins",
        42.1,
        "",
    )


@pytest.mark.django_db
def test_a_bad_message_is_refused_before_it_is_kept_and_can_be_sent_again_fixed(
    client: Client,
    partner: WebhookSource,  # noqa: F811
) -> None:
    bad = post_json(client, partner, {"id": "m1", "location": {"lat": "north", "long": 1}})
    assert bad.status_code == 400
    assert bad.json() == {
        "errors": [{"field": "location.lat", "message": "Give a decimal number."}]
    }
    assert not InboundMessage.objects.exists()
    fixed = post_json(client, partner, {"id": "m1", "text": "Hole in Elm Street"})
    assert fixed.status_code == 202, fixed.content
