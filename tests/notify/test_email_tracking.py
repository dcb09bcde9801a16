"""E-mail delivery reports arrive through django-anymail's tracking signal."""

from __future__ import annotations

import pytest
from anymail.signals import AnymailTrackingEvent, tracking

from townhall.notify.models import Notification

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("event_type", "status"), [("delivered", "delivered"), ("bounced", "failed")]
)
def test_a_providers_report_updates_the_notification(event_type: str, status: str) -> None:
    Notification.objects.create(
        key="k",
        kind="acknowledged",
        channel="email",
        to="a@example.org",
        body="x",
        status="sent",
        provider_message_id="esp-123",
    )
    event = AnymailTrackingEvent(event_type=event_type, message_id="esp-123", description="")
    tracking.send(sender=object, event=event, esp_name="Postmark")
    notification = Notification.objects.get()
    assert notification.status == status
    assert notification.delivery_attempts.get().outcome == "provider_status"
