"""E-mail delivery reports from providers, through django-anymail's tracking webhooks.

Anymail verifies each provider's webhook (its own URL under /hooks/anymail/<esp>/tracking/
and the ANYMAIL webhook secret) and emits one tracking event per report.
"""

from __future__ import annotations

from typing import Any

from townhall.notify.services import notification_status_report

# Anymail's event types, as the outbox understands them.
STATUS = {
    "delivered": "delivered",
    "bounced": "bounced",
    "rejected": "failed",
    "failed": "failed",
    "complained": "delivered",
}


def email_tracking_received(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    """Record a provider's delivery report against the notification it concerns."""
    status = STATUS.get(str(event.event_type))
    if status and event.message_id:
        detail = f"{esp_name} {event.event_type} {event.description or ''}".strip()
        notification_status_report(
            provider_message_id=str(event.message_id), status=status, detail=detail
        )
