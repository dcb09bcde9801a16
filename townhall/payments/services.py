"""Writes of the payments app: ask for a payment, start its checkout, refund it.

A case with an unpaid payment is on hold (holds.py): it cannot go on to "in progress" or
"resolved" until the webhook says it is paid. Every change to a payment that matters to
the case is recorded on the case's hash-chained history through the cases services.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from townhall.cases.access import Action, access_can
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEventKind
from townhall.cases.services import Actor, case_change, case_transition
from townhall.core import clock
from townhall.core.errors import DomainError, ValidationFailed
from townhall.payments.fees import fee_amount, fee_for_service
from townhall.payments.links import payment_token, token_digest
from townhall.payments.models import Fee, Payment, PaymentState
from townhall.payments.money import Money, currency_check, money_format
from townhall.payments.providers import provider_get
from townhall.payments.providers.base import CheckoutRequest, ProviderError
from townhall.payments.receipts import receipt_queue, refund_notice_queue

CASE_MARK = "payments:case:"
REASON_MAX = 1000
# A provider's checkout session is reused this long (Stripe's expire after 24 hours).
SESSION_REUSE = timedelta(hours=23)


class PaymentClosed(DomainError):
    """The payment cannot be paid (already paid, refunded or cancelled)."""

    code = "payments.closed"


class RefundNotAllowed(DomainError):
    """The user may not refund this payment."""

    code = "payments.refund_not_allowed"


class PaymentUnavailable(DomainError):
    """The provider refused or could not be reached; try again later."""

    code = "payments.unavailable"


def _reference() -> str:
    return f"PAY-{secrets.token_hex(6).upper()}"


def payment_create(
    *, case: Case, money: Money, description: str, fee: Fee | None = None, provider: str = ""
) -> Payment:
    """Record that `money` is owed for `case` (the case is held until it is paid)."""
    if money.amount_minor <= 0:
        raise ValidationFailed("Nothing to pay", details={"amount": [_("Give an amount.")]})
    reference = _reference()
    case_payments_mark(case.pk)  # a rolled-back payment leaves a harmless mark
    return Payment.objects.create(
        reference=reference,
        token_hash=token_digest(payment_token(reference)),
        case=case,
        fee=fee,
        description=description[:200],
        amount_minor=money.amount_minor,
        currency=currency_check(money.currency),
        provider=provider or provider_get().name,
        language=case.reporter.preferred_language if case.reporter is not None else "en",
    )


def case_payments_mark(case_id: int) -> None:
    """Remember in the cache that `case_id` has payments, so the resident's request page
    (held to three queries) asks the database only for cases that do. Kept without
    expiry; should the cache lose it, the page shows no banner (the pay link still works)."""
    cache.set(f"{CASE_MARK}{case_id}", True, None)


def payment_for_new_case(case: Case) -> Payment | None:
    """The payment a just-opened case owes, if its service type has a fee (None if not,
    or if the rules cannot work it out yet: staff then ask for it by hand)."""
    fee = fee_for_service(case.service_type_id)
    if fee is None:
        return None
    try:
        money = fee_amount(fee, answers=case.answers or {}, on=timezone.localdate(case.opened_at))
    except ValidationFailed:
        return None
    if money.amount_minor <= 0:
        return None
    return payment_create(case=case, money=money, description=fee.name, fee=fee)


def checkout_start(
    *, payment: Payment, email: str, language: str, success_url: str, cancel_url: str
) -> str:
    """Open (or reopen) the provider's hosted checkout; return the address to send the
    resident to. PaymentClosed if it is no longer payable; PaymentUnavailable if the
    provider refused."""
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.state not in (PaymentState.DUE, PaymentState.PENDING, PaymentState.FAILED):
            raise PaymentClosed(_("This payment is closed."))
        fresh = clock.now() - locked.updated_at < SESSION_REUSE
        if locked.checkout_url and locked.session_id and fresh:
            return locked.checkout_url
        adapter = provider_get(locked.provider)
        try:
            checkout = adapter.checkout_create(
                CheckoutRequest(
                    reference=locked.reference,
                    description=locked.description,
                    amount_minor=locked.amount_minor,
                    currency=locked.currency,
                    email=email,
                    success_url=success_url,
                    cancel_url=cancel_url,
                )
            )
        except ProviderError as exc:
            raise PaymentUnavailable(
                _("Payments are not available just now: please try again later.")
            ) from exc
        locked.session_id = checkout.session_id
        locked.checkout_url = checkout.url
        locked.state = PaymentState.PENDING
        locked.receipt_email = email[:254]
        locked.language = language[:10]
        locked.updated_at = clock.now()
        locked.save(
            update_fields=[
                "session_id",
                "checkout_url",
                "state",
                "receipt_email",
                "language",
                "updated_at",
            ]
        )
    return checkout.url


def _record(payment: Payment, text: str, actor: Actor, at: datetime, **extra: Any) -> None:
    """Put what happened to `payment` on its case's history (an internal note)."""
    data = {
        "text": text,
        "payment": {
            "reference": payment.reference,
            "state": payment.state,
            "amount_minor": payment.amount_minor,
            "refunded_minor": payment.refunded_minor,
            "currency": payment.currency,
            **extra,
        },
    }
    with case_change(payment.case_id, at=at, actor=actor) as change:
        change.append(CaseEventKind.NOTE, data)


def payment_paid(payment: Payment, *, intent_id: str, at: datetime) -> None:
    """Mark a locked payment paid (the webhook said so), record it, release the case and
    queue the receipt. The caller holds the payment's lock in its transaction."""
    payment.state = PaymentState.PAID
    payment.paid_at = at
    payment.intent_id = intent_id or payment.intent_id
    payment.updated_at = at
    payment.save(update_fields=["state", "paid_at", "intent_id", "updated_at"])
    amount = money_format(Money(payment.amount_minor, payment.currency), "en")
    _record(payment, f"Payment {payment.reference} received: {amount}.", None, at)
    case = Case.objects.get(pk=payment.case_id)
    if case.status == CaseStatus.AWAITING_CITIZEN and not payments_unpaid(case.pk):
        case_transition(
            case=case, to=CaseStatus.IN_PROGRESS, actor=None, note=_("Payment received."), now=at
        )
    receipt_queue(payment)


def payment_failed(payment: Payment, *, at: datetime) -> None:
    payment.state = PaymentState.FAILED
    payment.updated_at = at
    payment.save(update_fields=["state", "updated_at"])
    _record(payment, f"Payment {payment.reference} failed at checkout.", None, at)


def payment_refunded(
    payment: Payment, *, refunded_minor: int, at: datetime, reason: str = "", actor: Actor = None
) -> None:
    """Record a refund total on a locked, paid payment (staff's or the provider's word)."""
    payment.refunded_minor = refunded_minor
    payment.refunded_at = at
    payment.updated_at = at
    if reason:
        payment.refund_reason = reason
    if refunded_minor >= payment.amount_minor:
        payment.state = PaymentState.REFUNDED
    payment.save(
        update_fields=["refunded_minor", "refunded_at", "updated_at", "refund_reason", "state"]
    )
    amount = money_format(Money(refunded_minor, payment.currency), "en")
    text = f"Payment {payment.reference} refunded: {amount} in all."
    if reason:
        text += f" Reason: {reason}"
    _record(payment, text, actor, at)
    refund_notice_queue(payment, refunded_minor=refunded_minor)


def payments_unpaid(case_id: int) -> bool:
    return Payment.objects.filter(
        case_id=case_id,
        state__in=(PaymentState.DUE, PaymentState.PENDING, PaymentState.FAILED),
    ).exists()


def refund_issue(*, payment: Payment, amount_minor: int, reason: str, actor: Any) -> Payment:
    """Refund (part of) a paid payment, by a supervisor of its case's department, with a
    reason that goes on the case's history. PermissionDenied, ValidationFailed or
    PaymentUnavailable otherwise; nothing is recorded unless the provider refunded."""
    reason = (reason or "").strip()
    if not access_can(actor, Action.SUPERVISE, payment.case):
        raise RefundNotAllowed(_("Only a supervisor of this department can refund."))
    problems: dict[str, list[str]] = {}
    if not reason:
        problems["reason"] = [_("Say why the money is given back.")]
    elif len(reason) > REASON_MAX:
        problems["reason"] = [_("Keep it under 1,000 characters.")]
    with transaction.atomic():
        locked = Payment.objects.select_for_update().select_related("case").get(pk=payment.pk)
        left = locked.amount_minor - locked.refunded_minor
        if locked.state != PaymentState.PAID:
            problems["amount"] = [_("Only a paid payment can be refunded.")]
        elif not 0 < amount_minor <= left:
            problems["amount"] = [_("Refund between 0.01 and what is left to refund.")]
        if problems:
            raise ValidationFailed(_("The refund cannot be made."), details=problems)
        try:
            provider_get(locked.provider).refund(
                session_id=locked.session_id or "",
                intent_id=locked.intent_id,
                amount_minor=amount_minor,
            )
        except ProviderError as exc:
            raise PaymentUnavailable(str(exc)) from exc
        payment_refunded(
            locked,
            refunded_minor=locked.refunded_minor + amount_minor,
            at=clock.now(),
            reason=reason,
            actor=actor,
        )
    return locked


def sandbox_checkout_open(session_id: str) -> dict[str, Any] | None:
    """What the sandbox's checkout page shows (None if no such checkout)."""
    from townhall.payments.providers.sandbox import sandbox_checkout_get

    record = sandbox_checkout_get(session_id)
    if record is None:
        return None
    return {
        "amount": money_format(Money(record.amount_minor, record.currency)),
        "open": record.status not in ("paid", "refunded"),
    }


def sandbox_checkout_submit(session_id: str, *, pay: bool) -> str | None:
    """The resident paid or declined on the sandbox page: where they go next (None if
    the checkout is closed)."""
    from townhall.payments.providers.sandbox import sandbox_checkout_finish

    try:
        return sandbox_checkout_finish(session_id, pay=pay)
    except ProviderError:
        return None
