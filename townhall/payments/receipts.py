"""The receipt e-mail, through the notification outbox (one per payment: its key)."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from townhall.notify.links import public_url
from townhall.notify.models import Notification, NotificationStatus, NotifyChannel
from townhall.notify.sending import senders_wake
from townhall.payments.links import payment_path
from townhall.payments.models import Payment
from townhall.payments.money import Money, money_format
from townhall.people.selectors import case_contacts

RECEIPT_KIND = "payment_receipt"
REFUND_KIND = "payment_refund"


def receipt_address(payment: Payment) -> str:
    """Where the receipt goes: the address given at checkout, else the reporter's own."""
    if payment.receipt_email:
        return payment.receipt_email
    case = payment.case
    if case.reporter is None:
        return ""
    contacts = case_contacts(citizen=case.reporter, case_id=case.pk) or {}
    return contacts.get("email", "")


def _queue(payment: Payment, *, kind: str, template: str, key: str) -> Notification | None:
    to = receipt_address(payment)
    if not to:
        return None
    language = payment.language or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "payment": payment,
            "reference": payment.case.reference,
            "amount": money_format(Money(payment.amount_minor, payment.currency), language),
            "refunded": money_format(Money(payment.refunded_minor, payment.currency), language),
            "paid_at": timezone.localtime(payment.paid_at) if payment.paid_at else None,
            "url": public_url(payment_path(payment.reference)),
        }
        text = render_to_string(template, context).strip()
    subject, _sep, body = text.partition("\n")
    made, created = Notification.objects.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "channel": NotifyChannel.EMAIL,
            "language": language,
            "citizen_id": payment.case.reporter_id,
            "case_id": payment.case_id,
            "to": to,
            "subject": subject.strip()[:300],
            "body": body.strip(),
            "status": NotificationStatus.QUEUED,
        },
    )
    if created:
        senders_wake()
    return made


def receipt_queue(payment: Payment) -> Notification | None:
    """Queue the receipt of a paid payment; None if there is nowhere to send it."""
    return _queue(
        payment,
        kind=RECEIPT_KIND,
        template="payments/email/receipt.txt",
        key=f"payment-receipt:{payment.pk}",
    )


def refund_notice_queue(payment: Payment, *, refunded_minor: int) -> Notification | None:
    """Queue the note that (part of) a payment was refunded, once per refunded total."""
    return _queue(
        payment,
        kind=REFUND_KIND,
        template="payments/email/refund.txt",
        key=f"payment-refund:{payment.pk}:{refunded_minor}",
    )
