"""A provider's webhook, verified and applied once.

- The signature (HMAC over the timestamp and the raw body) and its timestamp (within
  TOLERANCE_SECONDS) are checked first: anything else changes nothing.
- Each event id is taken once (ProviderEvent is unique per provider and id): a retried or
  replayed event answers "duplicate" and changes nothing.
- The payment is found by its checkout session, its payment intent or our reference, and
  locked; a completed checkout must carry the payment's own amount and currency, or it is
  rejected (and logged as a security event).
- The state machine ignores stale moves: "failed" after "paid", "completed" twice. A refund
  that arrives before the payment it refunds is kept (DEFERRED) and applied right after the
  completion arrives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from django.db import IntegrityError, transaction

from townhall.core import clock
from townhall.core.security import SecurityEventKind, security_event
from townhall.payments.models import EventOutcome, Payment, PaymentState, ProviderEvent
from townhall.payments.providers import provider_get
from townhall.payments.providers.base import BadEvent, WebhookEvent, event_parse
from townhall.payments.services import payment_failed, payment_paid, payment_refunded
from townhall.payments.signing import SignatureInvalid

COMPLETED = "checkout.session.completed"
FAILED = "payment_intent.payment_failed"
REFUNDED = "charge.refunded"
OPEN_STATES = (PaymentState.DUE, PaymentState.PENDING, PaymentState.FAILED)


@dataclass(frozen=True)
class WebhookResult:
    status: int  # the HTTP status the hook answers
    outcome: str  # applied, duplicate, stale, deferred, rejected, unknown, bad_signature, …
    message: str = ""


def webhook_receive(
    *, provider: str, body: bytes, headers: Any, first_time: Callable[[], bool] | None = None
) -> WebhookResult:
    """Verify and apply one webhook delivery; never raises for bad input. `first_time`,
    asked once the signature is verified, says whether this very delivery is new (the
    hooks' replay protection); False answers 409."""
    try:
        adapter = provider_get(provider)
    except KeyError:
        return WebhookResult(404, "unknown_provider", "Unknown payment provider.")
    try:
        event = adapter.webhook_verify(body, headers)
    except SignatureInvalid as exc:
        security_event(
            SecurityEventKind.SIGNATURE_REFUSED,
            subject=f"payments:{provider}",
            detail={"why": exc.reason},
        )
        return WebhookResult(400, "bad_signature", f"Bad Stripe-Signature: {exc.reason}.")
    except BadEvent as exc:
        return WebhookResult(400, "bad_event", str(exc))
    if first_time is not None and not first_time():
        return WebhookResult(409, "replayed", "This delivery was already taken (a replay).")
    return event_apply(provider, event)


def _payment_for(provider: str, event: WebhookEvent) -> Payment | None:
    """The payment the event is about, locked: by checkout session, then payment intent,
    then our reference (each an indexed equality, tried in that order)."""
    for field, value in (
        ("session_id", event.session_id),
        ("intent_id", event.intent_id),
        ("reference", event.reference),
    ):
        if not value:
            continue
        found = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("case")
            .filter(**{field: value}, provider=provider)
            .order_by("pk")
            .first()
        )
        if found is not None:
            return found
    return None


def _at(event: WebhookEvent) -> datetime:
    return clock.now()


def event_apply(provider: str, event: WebhookEvent) -> WebhookResult:
    """Apply a verified event (see the module's docstring)."""
    # A provider's retry of an event already taken: answered without a lock. (Two
    # deliveries racing still meet at the unique event id below.)
    if ProviderEvent.objects.filter(provider=provider, event_id=event.id).exists():
        return WebhookResult(200, "duplicate", "This event was already taken.")
    with transaction.atomic():
        payment = _payment_for(provider, event)
        row = ProviderEvent(
            provider=provider,
            event_id=event.id,
            kind=event.kind,
            payment=payment,
            payload=event.raw,
            outcome=EventOutcome.UNKNOWN,
        )
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            return WebhookResult(200, "duplicate", "This event was already taken.")
        outcome, detail = _decide(payment, event)
        row.outcome, row.detail = outcome, detail[:300]
        row.save(update_fields=["outcome", "detail"])
        if outcome == EventOutcome.APPLIED and payment is not None and event.kind == COMPLETED:
            _deferred_apply(provider, payment)
    if outcome == EventOutcome.REJECTED:
        security_event(
            SecurityEventKind.SIGNATURE_REFUSED,
            subject=f"payments:{provider}",
            detail={"why": "mismatch", "event": event.id[:60]},
        )
        return WebhookResult(400, outcome, detail)
    return WebhookResult(200, outcome, detail)


def _matches(payment: Payment, event: WebhookEvent) -> str:
    """Why the event's money is not the payment's ("" when it is)."""
    if event.amount_minor != payment.amount_minor:
        return "The amount does not match the payment."
    if event.currency != payment.currency:
        return "The currency does not match the payment."
    if event.session_id and payment.session_id and event.session_id != payment.session_id:
        return "The checkout session is not the payment's."
    return ""


def _decide(payment: Payment | None, event: WebhookEvent) -> tuple[str, str]:
    """Apply `event` to the locked `payment` if the state machine allows; return the
    outcome and a word on it."""
    if payment is None:
        return EventOutcome.UNKNOWN, "No payment here has this session or reference."
    at = _at(event)
    if event.kind == COMPLETED:
        mismatch = _matches(payment, event)
        if mismatch:
            return EventOutcome.REJECTED, mismatch
        if not event.paid:
            return EventOutcome.STALE, "The checkout completed without being paid yet."
        if payment.state not in OPEN_STATES:
            return EventOutcome.STALE, f"Already {payment.state}."
        payment_paid(payment, intent_id=event.intent_id, at=at)
        return EventOutcome.APPLIED, "Paid."
    if event.kind == FAILED:
        mismatch = _matches(payment, event)
        if mismatch:
            return EventOutcome.REJECTED, mismatch
        if payment.state not in (PaymentState.DUE, PaymentState.PENDING):
            return EventOutcome.STALE, f"Already {payment.state}."
        payment_failed(payment, at=at)
        return EventOutcome.APPLIED, "Failed."
    if event.kind == REFUNDED:
        if event.currency != payment.currency or event.amount_refunded > payment.amount_minor:
            return EventOutcome.REJECTED, "The refund does not fit the payment."
        if payment.state in OPEN_STATES:
            return EventOutcome.DEFERRED, "Refund before the payment: kept until it arrives."
        if event.amount_refunded <= payment.refunded_minor:
            return EventOutcome.STALE, "This refund is already recorded."
        if payment.state not in (PaymentState.PAID, PaymentState.REFUNDED):
            return EventOutcome.STALE, f"Already {payment.state}."
        payment_refunded(payment, refunded_minor=event.amount_refunded, at=at)
        return EventOutcome.APPLIED, "Refunded."
    return EventOutcome.STALE, "Not an event Townhall acts on."


def _deferred_apply(provider: str, payment: Payment) -> None:
    """Apply the refunds that arrived before this payment's completion, in their order."""
    kept = ProviderEvent.objects.filter(
        provider=provider, payment=payment, outcome=EventOutcome.DEFERRED
    ).order_by("received_at", "pk")
    for row in kept:
        outcome, detail = _decide(payment, event_parse(orjson.dumps(row.payload)))
        row.outcome, row.detail = outcome, f"(deferred) {detail}"[:300]
        row.save(update_fields=["outcome", "detail"])


def event_time(event: WebhookEvent) -> datetime:
    """When the provider says the event happened (for reports)."""
    return datetime.fromtimestamp(event.created, tz=UTC)


__all__ = ["BadEvent", "WebhookResult", "event_apply", "webhook_receive"]
