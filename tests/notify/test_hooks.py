"""Provider callbacks: signed delivery reports and STOP replies; unsigned ones change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from townhall.notify.channels.sms import sms_request_signature
from townhall.notify.models import Notification, OptOut
from townhall.people.services import citizen_resolve

pytestmark = pytest.mark.django_db
PUBLIC = "http://127.0.0.1:8000"


GATEWAY_TOKEN = "secret"


def signed_post(
    client: Client, path: str, params: dict[str, str], token: str = GATEWAY_TOKEN
) -> Any:
    signature = sms_request_signature(auth_token=token, url=PUBLIC + path, params=params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def test_a_signed_delivery_report_marks_the_message_delivered(
    client: Client, sms_provider: Any, settings: Any
) -> None:
    settings.TOWNHALL_PUBLIC_URL = PUBLIC
    Notification.objects.create(
        key="k1",
        kind="alert",
        channel="sms",
        to="+16175550142",
        body="x",
        status="sent",
        provider_message_id="SM42",
    )
    response = signed_post(
        client, "/hooks/sms/status/", {"MessageSid": "SM42", "MessageStatus": "delivered"}
    )
    assert response.status_code == 204
    assert Notification.objects.get().status == "delivered"


@pytest.mark.parametrize("token", ["wrong-token", ""])
def test_an_unsigned_or_forged_report_is_refused(
    client: Client, sms_provider: Any, settings: Any, token: str
) -> None:
    settings.TOWNHALL_PUBLIC_URL = PUBLIC
    Notification.objects.create(
        key="k1",
        kind="alert",
        channel="sms",
        to="+1",
        body="x",
        status="sent",
        provider_message_id="SM42",
    )
    params = {"MessageSid": "SM42", "MessageStatus": "delivered"}
    if token:
        response = signed_post(client, "/hooks/sms/status/", params, token=token)
    else:
        response = client.post("/hooks/sms/status/", params)
    assert response.status_code == 403
    assert Notification.objects.get().status == "sent"


def test_a_stop_reply_opts_the_sender_out_and_answers_them(
    client: Client, sms_provider: Any, settings: Any
) -> None:
    settings.TOWNHALL_PUBLIC_URL = PUBLIC
    person = citizen_resolve(name="T", phone="617-555-0142")
    response = signed_post(client, "/hooks/sms/inbound/", {"From": "+16175550142", "Body": "STOP"})
    assert response.status_code == 200
    assert "no more texts" in response.content.decode()
    assert OptOut.objects.filter(citizen=person, channel="sms").exists()


def test_without_a_gateway_callbacks_are_refused(client: Client) -> None:
    assert (
        client.post("/hooks/sms/status/", {"MessageSid": "x", "MessageStatus": "y"}).status_code
        == 403
    )
