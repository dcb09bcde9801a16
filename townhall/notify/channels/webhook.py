"""Signed webhooks: POST the JSON body to the subscriber's URL with an HMAC-SHA256 signature.

Signing string: ``f"{timestamp}.".encode() + raw_body``; header value ``v1=<hex digest>``.
docs/webhooks.md is the receiving side's guide.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from townhall.notify.channels.addresses import address_policy
from townhall.notify.channels.base import (
    ChannelError,
    OutgoingMessage,
    SendResult,
    Transport,
    error_for_status,
)
from townhall.notify.channels.http import http_transport

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "WebhookChannel",
    "webhook_signature",
    "webhook_verify",
]

DEFAULT_TOLERANCE_SECONDS = 300
USER_AGENT = "Townhall-Webhooks/1"


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """``"v1=" + hex(HMAC-SHA256(secret, f"{timestamp}." + body))``."""
    signed = f"{timestamp}.".encode() + body
    return "v1=" + hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def webhook_verify(
    *,
    secret: str,
    signature_header: str,
    timestamp_header: str,
    body: bytes,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """True when one of the ``v1=`` signatures in ``signature_header`` signs ``body`` at
    ``timestamp_header`` with ``secret`` and that timestamp is within ``tolerance`` seconds of
    ``now`` (either side). Several comma-separated values are accepted (secret rotation)."""
    try:
        timestamp = int(timestamp_header.strip())
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=body).encode()
    matched = False
    for candidate in signature_header.split(","):
        value = candidate.strip()
        if value.startswith("v1="):
            # Compare every candidate, so timing does not tell which one matched.
            matched |= hmac.compare_digest(value.encode(), expected)
    return matched


class WebhookChannel:
    """POSTs ``message.body`` (JSON text) to ``message.to``, signed with the subscriber's secret.

    ``secret_for(url)`` returns the signing secret for an endpoint URL (it may raise
    ChannelError, e.g. ``code="no_secret"``). 2xx means delivered; 410 means the subscriber
    removed the endpoint (permanent, ``code="gone"``); 408, 429 and 5xx are retryable, with the
    ``Retry-After`` delay when given; redirects are not followed and, like other 4xx, permanent.
    """

    def __init__(
        self,
        name: str = "webhook",
        *,
        secret_for: Callable[[str], str],
        transport: Transport | None = None,
        clock: Callable[[], float] = time.time,
        allowed_networks: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.secret_for = secret_for
        # Public addresses only, plus the networks the council allows (addresses.py): the
        # real transport checks every address the host resolves to when it connects.
        self.address_allowed = address_policy(allowed_networks)
        self.transport: Transport = (
            transport
            if transport is not None
            else http_transport(address_allowed=self.address_allowed)
        )
        self.clock = clock

    def __repr__(self) -> str:
        return f"WebhookChannel(name={self.name!r})"

    def _literal_refusal(self, host: str) -> str:
        """Why an IP-literal host may not be sent to ("" for a name or an allowed address);
        names are checked by the transport as it connects."""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return ""
        if self.address_allowed(address):
            return ""
        return (
            f"webhook address {host} is not public "
            "(allow it with TOWNHALL_WEBHOOK_ALLOWED_NETWORKS)"
        )

    def send(self, message: OutgoingMessage) -> SendResult:
        parts = urlsplit(message.to)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ChannelError(
                f"not an http(s) URL: {message.to!r}", retryable=False, code="invalid_url"
            )
        refusal = self._literal_refusal(parts.hostname)
        if refusal:
            raise ChannelError(refusal, retryable=False, code="private_address")
        secret = self.secret_for(message.to)
        now = self.clock()
        timestamp = int(now)
        body = message.body.encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Townhall-Delivery": message.key,
            "X-Townhall-Timestamp": str(timestamp),
            "X-Townhall-Signature": webhook_signature(
                secret=secret, timestamp=timestamp, body=body
            ),
        }
        response = self.transport("POST", message.to, headers, body)
        if 200 <= response.status < 300:
            return SendResult(provider_message_id=message.key, status="delivered")
        if response.status == 410:
            raise ChannelError(
                f"webhook endpoint {parts.hostname} is gone (HTTP 410)",
                retryable=False,
                code="gone",
            )
        raise error_for_status(response, what=f"webhook {parts.hostname}", now=now)
