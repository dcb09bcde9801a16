"""Bodies, cases and forwards for the status-sync tests, built through the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from townhall.cases.services import case_open
from townhall.core import clock
from townhall.forwarding.models import Body, BodyKind, Forward, ForwardState


def body_make(
    slug: str = "county", *, endpoint: str = "http://127.0.0.1:9/", **fields: Any
) -> Body:
    values: dict[str, Any] = {
        "name": slug.title() + " Council",
        "slug": slug,
        "kind": BodyKind.OPEN311,
        "endpoint": endpoint,
        "poll_seconds": 900,
        "timeout_seconds": 2.0,
    }
    values.update(fields)
    return Body.objects.create(**values)


def forward_make(body: Body, service_type: Any, remote_id: str, **fields: Any) -> Forward:
    case = case_open(
        service_type=service_type,
        channel="web",
        description="A hole in the road",
        answers={"size": "small"} if service_type.code == "pothole" else {},
        lat=42.36,
        long=-71.09,
    )
    values: dict[str, Any] = {
        "case": case,
        "body": body,
        "state": ForwardState.SENT,
        "remote_id": remote_id,
        "sent_at": clock.now() - timedelta(hours=1),
    }
    values.update(fields)
    return Forward.objects.create(**values)
