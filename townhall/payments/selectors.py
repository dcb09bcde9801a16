"""Reads of the payments app, for the portal, the console and the hooks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache

from townhall.payments.links import payment_path, token_digest
from townhall.payments.models import Payment, PaymentState
from townhall.payments.money import Money, money_format


@dataclass(frozen=True)
class PaymentView:
    """A payment as a page shows it (no model leaves this app)."""

    pk: int
    reference: str
    case_reference: str
    description: str
    amount: str
    amount_minor: int
    refunded: str
    refundable_minor: int
    currency: str
    state: str
    state_label: str
    payable: bool
    paid_at: datetime | None
    refund_reason: str
    path: str


def _view(payment: Payment, language: str | None) -> PaymentView:
    return PaymentView(
        pk=payment.pk,
        reference=payment.reference,
        case_reference=payment.case.reference,
        description=payment.description,
        amount=money_format(Money(payment.amount_minor, payment.currency), language),
        amount_minor=payment.amount_minor,
        refunded=money_format(Money(payment.refunded_minor, payment.currency), language),
        refundable_minor=payment.amount_minor - payment.refunded_minor
        if payment.state == PaymentState.PAID
        else 0,
        currency=payment.currency,
        state=payment.state,
        state_label=str(PaymentState(payment.state).label),
        payable=payment.state in (PaymentState.DUE, PaymentState.PENDING, PaymentState.FAILED),
        paid_at=payment.paid_at,
        refund_reason=payment.refund_reason,
        path=payment_path(payment.reference),
    )


def payment_by_token(token: str, *, language: str | None = None) -> PaymentView | None:
    """The payment the resident's link names; None for any other string."""
    if not token or len(token) > 64:
        return None
    found = Payment.objects.select_related("case").filter(token_hash=token_digest(token)).first()
    return _view(found, language) if found is not None else None


def payments_of_case(case_id: int, *, language: str | None = None) -> list[PaymentView]:
    rows = Payment.objects.select_related("case").filter(case_id=case_id).order_by("created_at")
    return [_view(p, language) for p in rows]


def payment_model_for(pk: int) -> Payment | None:
    """For services called by faces with a payment they showed (refunds)."""
    return Payment.objects.select_related("case").filter(pk=pk).first()


def payments_of_case_marked(case_id: int, *, language: str | None = None) -> list[PaymentView]:
    """`payments_of_case`, read only for cases the cache marks as having payments
    (services.case_payments_mark); no query for the others."""
    if not cache.get(f"payments:case:{case_id}"):
        return []
    return payments_of_case(case_id, language=language)
