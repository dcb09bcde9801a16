"""Inbound mail from providers, posted by someone who holds the webhook secret but sends
junk (a careless provider, a misdirected webhook, a fuzzer): never a 500. A post anymail
cannot read gets 400 and nothing is kept; one it reads as an empty message goes to intake,
which decides (answered or ignored), like any mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from tests.intake.test_email_providers import (  # noqa: F401 - the fixture
    basic_auth,
    mailgun_signed,
    post_postmark,
    postmark_payload,
    providers,
    raw_email,
)
from townhall.intake.models import InboundMessage

TEXT = "There is a deep pothole outside 12 Elm Street, cars swerve round it."

pytestmark = pytest.mark.django_db

JSON = "application/json"


@pytest.mark.parametrize(
    ("provider", "body", "content_type"),
    [
        ("postmark", "not json", JSON),
        ("postmark", "[]", JSON),
        ("postmark", "{}", JSON),
        ("postmark", '{"FromFull": 5, "Headers": 7, "Attachments": "x"}', JSON),
        ("postmark", '{"RawEmail": 5}', JSON),
        ("amazon_ses", "not json", JSON),
        ("amazon_ses", '{"Type": "Notification", "Message": "not json"}', JSON),
        ("amazon_ses", '{"Type": "SubscriptionConfirmation", "SubscribeURL": "http://x"}', JSON),
        ("brevo", "{}", JSON),
        ("brevo", '{"items": [5]}', JSON),
        ("mailersend", "{}", JSON),
        ("mailjet", "{}", JSON),
        ("mailtrap", "{}", JSON),
        ("postal", "{}", JSON),
        ("resend", "{}", JSON),
        ("sparkpost", "{}", JSON),
        ("sparkpost", '[{"msys": 5}]', JSON),
        ("sendgrid", "a=b", "application/x-www-form-urlencoded"),
        ("sendgrid", "email=not+mime", "application/x-www-form-urlencoded"),
        ("mailgun", "a=b", "application/x-www-form-urlencoded"),
    ],
)
def test_junk_from_a_provider_is_a_client_error(
    client: Client,
    providers: Any,  # noqa: F811 - the fixture
    provider: str,
    body: str,
    content_type: str,
) -> None:
    response = client.post(
        f"/hooks/anymail/{provider}/inbound/", body, content_type=content_type, **basic_auth()
    )
    assert response.status_code < 500, (response.status_code, response.content[:300])
    if response.status_code == 400:
        assert response.json()["errors"][0]["message"]
        assert InboundMessage.objects.count() == 0


@pytest.mark.parametrize(
    "body", ["not json", "[]", '{"FromFull": 5, "Headers": 7, "Attachments": "x"}']
)
def test_an_unreadable_postmark_post_is_400_and_kept_nowhere(
    client: Client,
    providers: Any,  # noqa: F811 - the fixture
    body: str,
) -> None:
    response = client.post(
        "/hooks/anymail/postmark/inbound/", body, content_type=JSON, **basic_auth()
    )
    assert response.status_code == 400
    assert "not an inbound e-mail" in response.json()["errors"][0]["message"]
    assert InboundMessage.objects.count() == 0


def test_a_signed_mailgun_post_without_a_message_is_a_client_error(
    client: Client,
    providers: Any,  # noqa: F811 - the fixture
) -> None:
    response = client.post("/hooks/anymail/mailgun/inbound/", mailgun_signed({}), **basic_auth())
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert InboundMessage.objects.count() == 0


def test_a_fault_in_intake_is_not_passed_off_as_the_providers(
    client: Client,
    providers: Any,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(raw: bytes, source: str) -> None:
        raise KeyError("a bug of ours")

    monkeypatch.setattr("townhall.hooks.email_inbound.intake_email_receive", broken)
    with pytest.raises(KeyError, match="a bug of ours"):
        post_postmark(client, postmark_payload())


def test_a_signed_post_replayed_after_the_replay_window_is_still_refused(
    client: Client,
    providers: Any,  # noqa: F811 - the fixture
) -> None:
    """Mailgun's signature never expires and the post is remembered for a week: a post
    captured and sent again later must be refused by its signed timestamp."""
    fields = mailgun_signed({"body-mime": raw_email(body=TEXT).decode()})
    first = client.post("/hooks/anymail/mailgun/inbound/", fields, **basic_auth())
    assert first.status_code == 200, first.content
    window = providers.TOWNHALL_INBOUND_EMAIL_REPLAY_SECONDS
    later = datetime.now(UTC) + timedelta(seconds=window + 3600)
    with time_machine.travel(later, tick=False):
        again = client.post("/hooks/anymail/mailgun/inbound/", fields, **basic_auth())
    assert again.status_code == 409
    assert InboundMessage.objects.count() == 1
