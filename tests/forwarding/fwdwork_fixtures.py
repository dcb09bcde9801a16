"""Bodies, forwarded cases and signed work-order events for the inbound, case page and
resident display tests (fwdwork's; plain functions so other test modules keep their own
conftest)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import orjson
from django.test import Client

from townhall.cases.services import case_open
from townhall.core import clock
from townhall.forwarding.models import Body, BodyKind, Forward, ForwardState
from townhall.notify.channels.webhook import webhook_signature

SECRET = "county-works-secret-0123456789"
URL = "/hooks/workorders/{slug}/"


def body_make(slug: str = "county-works", **extra: Any) -> Body:
    values: dict[str, Any] = {
        "name": f"{slug.replace('-', ' ').title()} (internal)",
        "slug": slug,
        "kind": BodyKind.WORK_ORDER,
        "public_name": f"{slug.replace('-', ' ').title()}",
        "public_note": "They mend the roads and will reply to you.",
        "inbound_secret": SECRET + slug,
        **extra,
    }
    return Body.objects.create(**values)


def case_make(service_type: Any, text: str = "A deep pothole by the school gate") -> Any:
    return case_open(
        service_type=service_type,
        channel="web",
        description=text,
        answers={"size": "large"} if service_type.code == "pothole" else {},
        lat=42.36,
        long=-71.09,
    )


def forward_make(case: Any, body: Body, *, remote_id: str = "", **extra: Any) -> Forward:
    now = clock.now()
    values: dict[str, Any] = {
        "case": case,
        "body": body,
        "state": ForwardState.SENT,
        "remote_id": remote_id,
        "created_at": now - timedelta(hours=1),
        "sent_at": now - timedelta(minutes=59),
        "attempts": 1,
        **extra,
    }
    # A routing rule may have forwarded the case on opening already (forwarding.sending):
    # that forward becomes the one described here.
    live = Forward.objects.filter(case=case, state__in=["pending", "sent", "failed"])
    if live.exists():
        forward = live.get()
        for name, value in values.items():
            setattr(forward, name, value)
        forward.save()
        return forward
    return Forward.objects.create(**values)


def signed_post(
    client: Client,
    slug: str,
    payload: Any,
    *,
    secret: str,
    timestamp: int | None = None,
    raw: bytes | None = None,
    signature: str | None = None,
) -> Any:
    data = raw if raw is not None else orjson.dumps(payload)
    ts = int(time.time()) if timestamp is None else timestamp
    sig = (
        signature
        if signature is not None
        else webhook_signature(secret=secret, timestamp=ts, body=data)
    )
    return client.post(
        URL.format(slug=slug),
        data=data,
        content_type="application/json",
        HTTP_X_TOWNHALL_TIMESTAMP=str(ts),
        HTTP_X_TOWNHALL_SIGNATURE=sig,
    )
