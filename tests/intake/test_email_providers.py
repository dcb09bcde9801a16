"""Inbound e-mail from mail providers through django-anymail (/hooks/anymail/<provider>/inbound/).

The payloads have the shapes of the providers' real posts, as django-anymail's own tests
give them: Postmark's JSON (parsed fields, or with RawEmail), Mailgun's signed form (parsed
fields, or the raw MIME in body-mime) and SendGrid's form with the raw message in `email`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
from email.message import EmailMessage
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from townhall.cases.models import Case, CasePhoto
from townhall.core.models import SecurityEvent
from townhall.hooks.models import CallbackSeen
from townhall.intake.models import InboundMessage, Outcome

WEBHOOK_SECRET = "anymail-user:anymail-pass-for-tests"
MAILGUN_KEY = "mailgun-signing-key-for-tests"
RESIDENT = "rosa@example.org"
TEXT = "There is a deep pothole outside 12 Elm Street, cars swerve round it."


@pytest.fixture
def providers(settings: Any, town: Any) -> Any:
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
    }
    settings.TOWNHALL_INTAKE_FALLBACK_SERVICE = "pothole"
    return settings


def basic_auth(credentials: str = WEBHOOK_SECRET) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def postmark_payload(message_id: str = "22c74902-a0c1-4511-804f2-341342852c90") -> dict[str, Any]:
    """Postmark's inbound JSON without "Include raw email content"."""
    photo = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(photo, "JPEG")
    return {
        "FromName": "Rosa Reporter",
        "MessageStream": "inbound",
        "From": RESIDENT,
        "FromFull": {"Email": RESIDENT, "Name": "Rosa Reporter", "MailboxHash": ""},
        "To": "reports@testville.example.org",
        "ToFull": [{"Email": "reports@testville.example.org", "Name": "", "MailboxHash": ""}],
        "CcFull": [],
        "BccFull": [],
        "OriginalRecipient": "reports@testville.example.org",
        "Subject": "Big hole on Elm Street",
        "MessageID": message_id,
        "Date": "Wed, 02 Dec 2026 08:31:04 -0500",
        "TextBody": TEXT,
        "HtmlBody": f"<div>{TEXT}</div>",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [
            {"Name": "Return-Path", "Value": f"<{RESIDENT}>"},
            {"Name": "Received", "Value": "from mail.example.org by inbound.postmarkapp.com"},
            {"Name": "X-Spam-Status", "Value": "No"},
            {"Name": "MIME-Version", "Value": "1.0"},
            {"Name": "Message-ID", "Value": f"<{message_id}@mail.example.org>"},
        ],
        "Attachments": [
            {
                "Name": "hole.jpg",
                "Content": base64.b64encode(photo.getvalue()).decode("ascii"),
                "ContentType": "image/jpeg",
                "ContentLength": len(photo.getvalue()),
            }
        ],
    }


def post_postmark(client: Client, payload: dict[str, Any], **extra: Any) -> Any:
    return client.post(
        "/hooks/anymail/postmark/inbound/",
        json.dumps(payload),
        content_type="application/json",
        **{**basic_auth(), **extra},
    )


def mailgun_signed(fields: dict[str, Any], key: str = MAILGUN_KEY) -> dict[str, Any]:
    token = hashlib.sha256(json.dumps(sorted(fields)).encode() + str(time.time()).encode())
    timestamp = str(int(time.time()))
    signature = hmac.new(
        key.encode(), f"{timestamp}{token.hexdigest()}".encode(), hashlib.sha256
    ).hexdigest()
    return {**fields, "token": token.hexdigest(), "timestamp": timestamp, "signature": signature}


def raw_email(
    subject: str = "Streetlight out on Oak Ave", body: str = "", cte: str | None = None
) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Robert Harris <robert.harris@example.org>"
    msg["To"] = "reports@testville.example.org"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{hashlib.md5(subject.encode()).hexdigest()}@example.org>"  # noqa: S324
    msg["Date"] = "Wed, 02 Dec 2026 08:31:04 -0500"
    msg.set_content(body or "The streetlight at Oak Ave & 3rd St has been out for a week.", cte=cte)
    return msg.as_bytes()


def test_a_postmark_delivery_opens_a_case_with_its_photo(client: Client, providers: Any) -> None:
    response = post_postmark(client, postmark_payload())
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["outcome"] == Outcome.OPENED
    inbound = InboundMessage.objects.get(pk=body["id"])
    assert inbound.channel == "email"
    assert inbound.source == "postmark"
    assert inbound.sender_email == RESIDENT
    case = Case.objects.get(pk=inbound.case_id)
    assert case.reference == body["reference"]
    assert case.description.startswith("Big hole on Elm Street")
    assert TEXT in case.description
    assert case.reporter is not None and case.reporter.display_name == "Rosa Reporter"
    assert CasePhoto.objects.filter(case=case).count() == 1


def test_the_same_postmark_delivery_again_is_refused_as_a_replay(
    client: Client, providers: Any
) -> None:
    assert post_postmark(client, postmark_payload()).status_code == 200
    again = post_postmark(client, postmark_payload())
    assert again.status_code == 409
    assert "replay" in again.json()["errors"][0]["message"]
    assert Case.objects.count() == 1
    assert InboundMessage.objects.count() == 1
    assert SecurityEvent.objects.filter(detail__why="replay").exists()


def test_a_forged_postmark_post_is_refused_and_changes_nothing(
    client: Client, providers: Any
) -> None:
    for headers in (basic_auth("anymail-user:guessed"), {"HTTP_AUTHORIZATION": ""}):
        response = post_postmark(client, postmark_payload(), **headers)
        assert response.status_code == 403
    assert InboundMessage.objects.count() == 0
    assert Case.objects.count() == 0
    assert not CallbackSeen.objects.exists()  # a forgery cannot use up a delivery id
    assert SecurityEvent.objects.filter(detail__why="signature").count() == 2


def test_a_mailgun_forward_opens_a_case(client: Client, providers: Any) -> None:
    fields = mailgun_signed(
        {
            "recipient": "reports@testville.example.org",
            "sender": RESIDENT,
            "message-headers": json.dumps(
                [
                    ["X-Mailgun-Sflag", "No"],
                    ["From", f"Rosa Reporter <{RESIDENT}>"],
                    ["Date", "Wed, 02 Dec 2026 08:31:04 -0500"],
                    ["Message-Id", "<CAEPk3R+4Zr@mail.example.org>"],
                    ["Subject", "Big hole on Elm Street"],
                    ["To", "reports@testville.example.org"],
                ]
            ),
            "body-plain": TEXT,
            "body-html": f"<div>{TEXT}</div>",
            "stripped-text": TEXT,
        }
    )
    response = client.post("/hooks/anymail/mailgun/inbound/", fields, **basic_auth())
    assert response.status_code == 200, response.content
    inbound = InboundMessage.objects.get(pk=response.json()["id"])
    assert (inbound.source, inbound.outcome) == ("mailgun", Outcome.OPENED)
    assert inbound.external_id == "CAEPk3R+4Zr@mail.example.org"
    # The same signed post again (a replay of the captured request).
    assert client.post("/hooks/anymail/mailgun/inbound/", fields, **basic_auth()).status_code == 409


def test_a_mailgun_post_with_a_forged_signature_is_refused(client: Client, providers: Any) -> None:
    fields = mailgun_signed(
        {"sender": RESIDENT, "message-headers": "[]", "body-plain": TEXT}, key="not-the-key"
    )
    response = client.post("/hooks/anymail/mailgun/inbound/", fields, **basic_auth())
    assert response.status_code == 403
    assert InboundMessage.objects.count() == 0


def test_mailgun_raw_mime_goes_through_the_same_parsing(client: Client, providers: Any) -> None:
    raw = raw_email(
        body="Die Laterne in der Hauptstraße ist seit einer Woche aus.\n", cte="quoted-printable"
    )
    assert b"Hauptstra\xc3\x9fe" not in raw  # encoded for transport, not 8-bit
    fields = mailgun_signed({"sender": "robert.harris@example.org", "body-mime": raw.decode()})
    response = client.post("/hooks/anymail/mailgun/inbound_mime/", fields, **basic_auth())
    assert response.status_code == 200, response.content
    inbound = InboundMessage.objects.get(pk=response.json()["id"])
    assert inbound.source == "mailgun"
    assert inbound.subject == "Streetlight out on Oak Ave"
    assert inbound.text == "Die Laterne in der Hauptstraße ist seit einer Woche aus."


# Anymail warns that SendGrid is no longer officially supported; its inbound parsing works.
@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")
def test_a_sendgrid_raw_post_opens_a_case(client: Client, providers: Any) -> None:
    raw = raw_email()
    fields = {
        "email": raw.decode(),
        "to": "reports@testville.example.org",
        "from": "Robert Harris <robert.harris@example.org>",
        "subject": "Streetlight out on Oak Ave",
        "envelope": json.dumps(
            {"to": ["reports@testville.example.org"], "from": "robert.harris@example.org"}
        ),
        "charsets": json.dumps({"to": "UTF-8", "subject": "UTF-8", "from": "UTF-8"}),
        "SPF": "pass",
    }
    response = client.post("/hooks/anymail/sendgrid/inbound/", fields, **basic_auth())
    assert response.status_code == 200, response.content
    inbound = InboundMessage.objects.get(pk=response.json()["id"])
    assert (inbound.source, inbound.outcome) == ("sendgrid", Outcome.OPENED)
    assert inbound.sender_email == "robert.harris@example.org"


def test_machine_mail_from_a_provider_never_becomes_a_case(client: Client, providers: Any) -> None:
    payload = postmark_payload()
    payload["Headers"].append({"Name": "Auto-Submitted", "Value": "auto-replied"})
    response = post_postmark(client, payload)
    assert response.status_code == 200
    assert response.json()["outcome"] == Outcome.IGNORED
    assert Case.objects.count() == 0


def test_provider_routes_are_closed_without_a_webhook_secret(
    client: Client, providers: Any
) -> None:
    providers.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    response = post_postmark(client, postmark_payload())
    assert response.status_code == 403
    assert InboundMessage.objects.count() == 0


def test_unknown_providers_and_wrong_webhooks_get_clear_errors(
    client: Client, providers: Any
) -> None:
    unknown = client.post("/hooks/anymail/nobody/inbound/", "{}", content_type="application/json")
    assert unknown.status_code == 404
    # Postmark's delivery-report webhook pointed at the inbound URL by mistake.
    tracking = post_postmark(client, {"RecordType": "Delivery"})
    assert tracking.status_code == 400
    assert "not set up for inbound" in tracking.json()["errors"][0]["message"]
    assert client.get("/hooks/anymail/postmark/inbound/").status_code == 405


def test_a_provider_post_over_the_size_limit_is_refused(client: Client, providers: Any) -> None:
    providers.TOWNHALL_INBOUND_EMAIL_MAX_BYTES = 1000
    response = post_postmark(client, postmark_payload())  # its photo alone is over 1000 bytes
    assert response.status_code == 413
    assert InboundMessage.objects.count() == 0


def test_provider_routes_count_against_the_hooks_rate_limit(client: Client, providers: Any) -> None:
    providers.TOWNHALL_RATE_LIMITS = {**providers.TOWNHALL_RATE_LIMITS, "hooks": "2/minute"}
    statuses = [post_postmark(client, {}, **basic_auth("x:y")).status_code for _ in range(3)]
    assert statuses == [403, 403, 429]
