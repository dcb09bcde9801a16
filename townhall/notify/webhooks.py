"""Signed webhooks to subscribed systems: payloads without personal data, per-subscriber
secrets."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from townhall.cases.models import Case, CaseEvent
from townhall.notify.channels.addresses import address_policy, url_address_refusal
from townhall.notify.channels.base import ChannelError
from townhall.notify.channels.webhook import WebhookChannel
from townhall.notify.models import (
    Notification,
    NotificationStatus,
    NotifyChannel,
    WebhookSubscriber,
)


def subscriber_secret(url: str) -> str:
    """Return the signing secret of the active subscriber at `url`."""
    secret = (
        WebhookSubscriber.objects.filter(url=url, active=True)
        .values_list("secret", flat=True)
        .first()
    )
    if not secret:
        raise ChannelError(
            f"no active webhook subscriber at {url}", retryable=False, code="no_secret"
        )
    return secret


class SubscriberWebhookChannel(WebhookChannel):
    """The webhook channel signing with each subscriber's own secret."""

    def __init__(self, name: str = "webhook", **options: Any) -> None:
        options.setdefault("allowed_networks", settings.TOWNHALL_WEBHOOK_ALLOWED_NETWORKS)
        super().__init__(name=name, secret_for=subscriber_secret, **options)


def webhook_url_refusal(url: str) -> str:
    """Why `url` may not be a subscriber's address ("" if it may): every address its host
    resolves to must be public or in TOWNHALL_WEBHOOK_ALLOWED_NETWORKS."""
    return url_address_refusal(url, address_policy(settings.TOWNHALL_WEBHOOK_ALLOWED_NETWORKS))


def webhook_payload(*, case: Case, event: CaseEvent, kind: str) -> str:
    """Return the JSON body sent for a case event: what happened, never who reported it."""
    return json.dumps(
        {
            "kind": kind,
            "event": event.kind,
            "event_id": event.pk,
            "at": event.at.isoformat(),
            "case": {
                "reference": case.reference,
                "service_code": case.service_type.code,
                "status": case.status,
                "expected_on": case.expected_on.isoformat() if case.expected_on else None,
                "lat": case.lat,
                "long": case.long,
                "address": case.address,
            },
        },
        sort_keys=True,
    )


def webhooks_queue_for_case_event(*, case: Case, event: CaseEvent, kind: str) -> int:
    """Queue the event for every active subscriber that wants `kind`; return how many."""
    rows = [
        Notification(
            key=f"case-event:{event.pk}:webhook:{sub.pk}",
            kind=kind,
            channel=NotifyChannel.WEBHOOK,
            case_id=case.pk,
            to=sub.url,
            subject=kind,
            body=webhook_payload(case=case, event=event, kind=kind),
            status=NotificationStatus.QUEUED,
            next_attempt_at=event.at,
            created_at=event.at,
        )
        for sub in WebhookSubscriber.objects.filter(active=True)
        if not sub.kinds or kind in sub.kinds
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
