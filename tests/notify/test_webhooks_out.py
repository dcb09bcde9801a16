"""Signed webhooks to subscribed systems, with each subscriber's own secret."""

from __future__ import annotations

import json
from typing import Any

import pytest

from townhall.cases.lifecycle import CaseStatus
from townhall.cases.services import case_open, case_transition
from townhall.notify.channels.base import HttpResponse
from townhall.notify.channels.registry import channel_adapters_reset
from townhall.notify.channels.webhook import webhook_verify
from townhall.notify.models import Notification, WebhookSubscriber
from townhall.notify.services import notification_send_due

pytestmark = pytest.mark.django_db


class Receiver:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []

    def __call__(self, method: str, url: str, headers: Any, body: bytes) -> HttpResponse:
        self.requests.append((url, dict(headers), body))
        return HttpResponse(200, {}, b"ok")


def test_a_subscriber_gets_signed_events_without_personal_data(
    settings: Any, pothole: Any, resident: Any, caseworker: Any
) -> None:
    receiver = Receiver()
    settings.TOWNHALL_CHANNELS = {
        "webhook": {
            "BACKEND": "townhall.notify.webhooks.SubscriberWebhookChannel",
            "OPTIONS": {"transport": receiver},
        }
    }
    channel_adapters_reset()
    WebhookSubscriber.objects.create(
        name="Contractor", url="https://c.example.org/hook", secret="s3cret", kinds=["resolved"]
    )
    WebhookSubscriber.objects.create(
        name="Dashboard", url="https://d.example.org/hook", secret="other"
    )
    case = case_open(
        service_type=pothole,
        channel="web",
        answers={"size": "small"},
        description="x",
        reporter=resident,
    )
    case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=caseworker)
    case_transition(case=case, to=CaseStatus.RESOLVED, actor=caseworker, note="Filled")
    hooks = Notification.objects.filter(channel="webhook").order_by("pk")
    assert [(n.to, n.kind) for n in hooks] == [
        ("https://d.example.org/hook", "status_changed"),
        ("https://c.example.org/hook", "resolved"),
        ("https://d.example.org/hook", "resolved"),
    ]
    notification_send_due()
    channel_adapters_reset()
    assert len(receiver.requests) == 3
    for url, headers, body in receiver.requests:
        secret = "s3cret" if url.startswith("https://c.") else "other"
        assert webhook_verify(
            secret=secret,
            signature_header=headers["X-Townhall-Signature"],
            timestamp_header=headers["X-Townhall-Timestamp"],
            body=body,
            now=int(headers["X-Townhall-Timestamp"]),
        )
        payload = json.loads(body)
        assert payload["case"]["reference"] == case.reference
        assert "rosa" not in body.decode().lower()
    assert set(hooks.values_list("status", flat=True)) == {"delivered"}
