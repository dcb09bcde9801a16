"""Webhook signatures of the Stripe kind: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]``,
where each v1 is HMAC-SHA256(secret, f"{t}.{raw body}") in hex. A signature is accepted when
one v1 matches (several during a secret's rotation) and t is within the tolerance of now
(either side), so a captured request cannot be replayed later."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Stripe-Signature"


class SignatureInvalid(Exception):
    """The signature is missing, malformed, wrong or too old; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def signature_compute(secret: str, body: bytes, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    return f"t={timestamp},v1={signature_compute(secret, body, timestamp)}"


def signature_verify(secret: str, body: bytes, header: str, *, now: float, tolerance: int) -> int:
    """Return the signed timestamp; raise SignatureInvalid unless `header` signs `body`."""
    if not secret:
        raise SignatureInvalid("no signing secret is configured")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in (header or "").split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureInvalid("malformed timestamp") from None
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureInvalid("missing timestamp or v1 signature")
    expected = signature_compute(secret, body, timestamp).encode()
    if not any(hmac.compare_digest(expected, s.encode("ascii", "replace")) for s in signatures):
        raise SignatureInvalid("signature does not match")
    if abs(now - timestamp) > tolerance:
        raise SignatureInvalid("timestamp outside the tolerance")
    return timestamp
