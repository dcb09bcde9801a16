"""The sandbox provider: a hosted checkout inside Townhall, for the demo and the tests.

It behaves like Stripe Checkout seen from Townhall: a session with a page to pay on (the
portal's /pay/sandbox/<session>/), then a signed Stripe-shaped webhook
(`checkout.session.completed` or `payment_intent.payment_failed`, later `charge.refunded`)
delivered to the same entry point the real hook uses (signature and all, in process: no
network). Its own books (SandboxRecord) are what reconciliation lists. Never take real
money with it: TOWNHALL_PAYMENTS["PROVIDER"] chooses it only where set.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from townhall.core import clock
from townhall.payments.conf import payments_setting
from townhall.payments.models import SandboxRecord
from townhall.payments.providers.base import (
    Checkout,
    CheckoutRequest,
    PaymentProvider,
    ProviderError,
    ProviderRecord,
)
from townhall.payments.signing import HEADER, signature_header


class SandboxProvider(PaymentProvider):
    name = "sandbox"

    def webhook_secret(self) -> str:
        # Its default secret is public: a production site takes no sandbox webhook at all.
        if getattr(settings, "PRODUCTION", False):
            return ""
        return str(payments_setting("SANDBOX_WEBHOOK_SECRET"))

    def checkout_create(self, request: CheckoutRequest) -> Checkout:
        record = SandboxRecord.objects.create(
            session_id=f"cs_sandbox_{secrets.token_hex(16)}",
            intent_id=f"pi_sandbox_{secrets.token_hex(12)}",
            payment_reference=request.reference,
            amount_minor=request.amount_minor,
            currency=request.currency,
            success_url=request.success_url,
            cancel_url=request.cancel_url,
        )
        url = reverse("portal:payment-sandbox", args=[record.session_id])
        return Checkout(session_id=record.session_id, url=url)

    def refund(self, *, session_id: str, intent_id: str, amount_minor: int) -> str:
        with transaction.atomic():
            record = SandboxRecord.objects.select_for_update().filter(session_id=session_id).first()
            if record is None or record.status not in ("paid", "refunded"):
                raise ProviderError("The sandbox has no paid checkout to refund.")
            if record.amount_refunded + amount_minor > record.amount_minor:
                raise ProviderError("The refund is more than what was paid.")
            record.amount_refunded += amount_minor
            record.status = "refunded"
            record.save(update_fields=["amount_refunded", "status"])
        refund_id = f"re_sandbox_{secrets.token_hex(8)}"
        # Like Stripe, the refund is confirmed by a webhook after the API call returned.
        transaction.on_commit(lambda: sandbox_deliver(sandbox_event("charge.refunded", record)))
        return refund_id

    def records(self, *, day: date) -> list[ProviderRecord]:
        start = datetime.combine(day, time(0), tzinfo=UTC)
        rows = SandboxRecord.objects.filter(
            created_at__gte=start, created_at__lt=start + timedelta(days=1)
        ).order_by("created_at")
        return [
            ProviderRecord(
                session_id=r.session_id,
                reference=r.payment_reference,
                amount_minor=r.amount_minor,
                currency=r.currency,
                status=r.status,
                amount_refunded=r.amount_refunded,
            )
            for r in rows
        ]


def sandbox_event(
    kind: str,
    record: SandboxRecord,
    *,
    event_id: str = "",
    amount_minor: int | None = None,
    currency: str | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    """A Stripe-shaped event about `record` (amount and currency overridable, for tests)."""
    amount = record.amount_minor if amount_minor is None else amount_minor
    cur = (currency or record.currency).lower()
    meta = {"payment": record.payment_reference}
    obj: dict[str, Any]
    if kind == "checkout.session.completed":
        obj = {
            "id": record.session_id,
            "object": "checkout.session",
            "client_reference_id": record.payment_reference,
            "payment_intent": record.intent_id,
            "payment_status": "paid",
            "amount_total": amount,
            "currency": cur,
            "metadata": meta,
        }
    elif kind == "payment_intent.payment_failed":
        obj = {
            "id": record.intent_id,
            "object": "payment_intent",
            "amount": amount,
            "currency": cur,
            "status": "requires_payment_method",
            "metadata": meta,
        }
    else:  # charge.refunded
        obj = {
            "id": f"ch_sandbox_{record.intent_id[11:]}",
            "object": "charge",
            "payment_intent": record.intent_id,
            "amount": amount,
            "amount_refunded": record.amount_refunded,
            "currency": cur,
            "refunded": record.amount_refunded >= amount,
            "metadata": meta,
        }
    return {
        "id": event_id or f"evt_sandbox_{secrets.token_hex(12)}",
        "object": "event",
        "type": kind,
        "created": created or int(clock.now().timestamp()),
        "livemode": False,
        "data": {"object": obj},
    }


def sandbox_signed(event: dict[str, Any], *, at: int | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers the sandbox posts for `event`, signed at `at` (now)."""
    body = orjson.dumps(event)
    timestamp = at if at is not None else int(clock.now().timestamp())
    secret = str(payments_setting("SANDBOX_WEBHOOK_SECRET"))
    return body, {HEADER: signature_header(secret, body, timestamp)}


def sandbox_deliver(event: dict[str, Any]) -> Any:
    """Post `event`, signed, to the webhook entry point (in process)."""
    from townhall.payments.webhooks import webhook_receive

    body, headers = sandbox_signed(event)
    return webhook_receive(provider="sandbox", body=body, headers=headers)


def sandbox_checkout_get(session_id: str) -> SandboxRecord | None:
    return SandboxRecord.objects.filter(session_id=session_id).first()


def sandbox_checkout_finish(session_id: str, *, pay: bool) -> str:
    """The resident paid (or declined) on the sandbox page: record it, send the webhook,
    return where the resident goes next. ProviderError if the session is not open."""
    with transaction.atomic():
        record = SandboxRecord.objects.select_for_update().filter(session_id=session_id).first()
        if record is None or record.status == "paid" or record.status == "refunded":
            raise ProviderError("This checkout is closed.")
        record.status = "paid" if pay else "failed"
        record.save(update_fields=["status"])
    kind = "checkout.session.completed" if pay else "payment_intent.payment_failed"
    sandbox_deliver(sandbox_event(kind, record))
    return record.success_url if pay else record.cancel_url
