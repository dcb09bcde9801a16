"""What a payment provider does for Townhall, whoever it is: open a hosted checkout, refund,
list its records of a day, and check that a webhook really came from it.

Both providers here speak Stripe's shapes (Checkout Sessions, `Stripe-Signature` webhooks,
events `checkout.session.completed`, `payment_intent.payment_failed`, `charge.refunded`);
another provider adapts its own to `WebhookEvent` in `event_parse`.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson

from townhall.core import clock
from townhall.payments.conf import payments_setting
from townhall.payments.signing import HEADER, SignatureInvalid, signature_verify


class ProviderError(Exception):
    """The provider refused or could not be reached; the message is safe to show staff."""


class BadEvent(Exception):
    """A verified body that is not an event we can read (400)."""


@dataclass(frozen=True)
class Checkout:
    session_id: str
    url: str


@dataclass(frozen=True)
class CheckoutRequest:
    reference: str
    description: str
    amount_minor: int
    currency: str
    email: str
    success_url: str
    cancel_url: str


@dataclass(frozen=True)
class ProviderRecord:
    """A payment as the provider's books have it."""

    session_id: str
    reference: str
    amount_minor: int
    currency: str
    status: str  # paid, refunded, failed, open
    amount_refunded: int


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    kind: str  # checkout.session.completed, payment_intent.payment_failed, charge.refunded, …
    created: int
    reference: str  # our payment reference, from the metadata or client_reference_id
    session_id: str
    intent_id: str
    amount_minor: int | None
    currency: str
    amount_refunded: int
    paid: bool
    raw: dict[str, Any]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def event_parse(body: bytes) -> WebhookEvent:
    """Read a Stripe-shaped event; BadEvent if it is not JSON or lacks its id and type."""
    if b"\\u0000" in body:  # no provider sends one, and PostgreSQL's jsonb cannot keep it
        raise BadEvent("The event holds a NUL character.")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadEvent("The body is not JSON.") from None
    if not isinstance(data, dict):
        raise BadEvent("Send a JSON object.")
    envelope = data.get("data")
    obj: Any = envelope.get("object") if isinstance(envelope, dict) else None
    if not _text(data.get("id")) or not _text(data.get("type")) or not isinstance(obj, dict):
        raise BadEvent("An event needs id, type and data.object.")
    metadata: dict[str, Any] = obj["metadata"] if isinstance(obj.get("metadata"), dict) else {}
    kind = data["type"]
    is_session = _text(obj.get("object")) == "checkout.session"
    amount = _int(obj.get("amount_total")) if is_session else _int(obj.get("amount"))
    return WebhookEvent(
        id=data["id"][:200],
        kind=kind[:60],
        created=_int(data.get("created")) or 0,
        reference=_text(metadata.get("payment")) or _text(obj.get("client_reference_id")),
        session_id=_text(obj.get("id")) if is_session else "",
        intent_id=_text(obj.get("payment_intent"))
        if is_session or _text(obj.get("object")) == "charge"
        else _text(obj.get("id")),
        amount_minor=amount,
        currency=_text(obj.get("currency")).upper(),
        amount_refunded=_int(obj.get("amount_refunded")) or 0,
        paid=_text(obj.get("payment_status")) == "paid",
        raw=data,
    )


class PaymentProvider(abc.ABC):
    name: str = ""

    @abc.abstractmethod
    def webhook_secret(self) -> str: ...

    @abc.abstractmethod
    def checkout_create(self, request: CheckoutRequest) -> Checkout:
        """Open a hosted checkout for one payment; ProviderError if refused."""

    @abc.abstractmethod
    def refund(self, *, session_id: str, intent_id: str, amount_minor: int) -> str:
        """Refund `amount_minor` of a paid checkout; return the provider's refund id."""

    @abc.abstractmethod
    def records(self, *, day: date) -> list[ProviderRecord]:
        """The provider's checkouts created on `day` (UTC), with their state now."""

    def webhook_verify(self, body: bytes, headers: Any) -> WebhookEvent:
        """Check the signature (SignatureInvalid) and read the event (BadEvent)."""
        signature_verify(
            self.webhook_secret(),
            body,
            str(headers.get(HEADER, "")),
            now=clock.now().timestamp(),
            tolerance=int(payments_setting("TOLERANCE_SECONDS")),
        )
        return event_parse(body)


__all__ = [
    "BadEvent",
    "Checkout",
    "CheckoutRequest",
    "PaymentProvider",
    "ProviderError",
    "ProviderRecord",
    "SignatureInvalid",
    "WebhookEvent",
    "event_parse",
]
