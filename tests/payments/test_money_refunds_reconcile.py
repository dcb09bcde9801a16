"""Money formatting, rules-computed fees, staff refunds and the daily reconciliation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import httpx
import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from townhall.cases.models import CaseEvent
from townhall.core import clock
from townhall.core.errors import ValidationFailed
from townhall.notify.models import Notification
from townhall.payments.fees import fee_amount
from townhall.payments.links import payment_token
from townhall.payments.models import Fee, FeeKind, Payment, SandboxRecord
from townhall.payments.money import Money, money_format
from townhall.payments.providers.base import CheckoutRequest
from townhall.payments.providers.sandbox import sandbox_checkout_finish
from townhall.payments.providers.stripe import StripeCheckout
from townhall.payments.reconcile import payments_reconcile
from townhall.payments.services import RefundNotAllowed, checkout_start, refund_issue
from townhall.people.roles import StaffRole
from townhall.people.services import staff_user_create


@pytest.mark.parametrize(
    ("money", "language", "text"),
    [
        (Money(123456, "USD"), "en", "$1,234.56"),
        (Money(123456, "USD"), "es", "1\u00a0234,56\u00a0$"),
        (Money(2500, "EUR"), "es", "25,00\u00a0€"),
        (Money(500, "JPY"), "en", "500\u00a0JPY"),
        (Money(1250, "CHF"), "en", "12.50\u00a0CHF"),
    ],
)
def test_money_in_the_readers_language(money: Money, language: str, text: str):
    assert money_format(money, language) == text


def test_minor_units_from_decimals_round_half_even_and_refuse_nonsense():
    assert Money.from_decimal(Decimal("12.345"), "usd") == Money(1234, "USD")
    assert Money.from_decimal("7", "KWD") == Money(7000, "KWD")
    with pytest.raises(ValidationFailed):
        Money.from_decimal("NaN", "USD")
    with pytest.raises(ValidationFailed):
        Money.from_decimal("1", "dollars")
    with pytest.raises(TypeError):
        Money(12.5, "USD")  # type: ignore[arg-type]


def test_a_rule_fee_is_what_the_programme_decides(db: None):
    fee = Fee(name="Parking permit", kind=FeeKind.RULE, programme="resident_parking_permit")
    answers = {"zone": "a", "registered_at_address": True, "vehicle_type": "motorcycle"}
    answers_all = {**answers, "permits_held": 1}
    on = clock.now().date()
    # zone A 120 x 150 % (second permit) x 50 % (motorcycle) = 90.00
    assert fee_amount(fee, answers=answers_all, on=on) == Money(9000, "USD")
    with pytest.raises(ValidationFailed):
        fee_amount(fee, answers=answers, on=on)  # permits_held missing


def test_a_permit_fee_comes_from_the_permit_tree(db: None):
    from townhall.rules.selectors import permit_tree_get

    tree = permit_tree_get(tree_id="home_improvements")
    permit_id, permit = next((k, p) for k, p in tree.permits.items() if p.fee > 0)
    fee = Fee(name="Permit", kind=FeeKind.PERMIT, permit=f"home_improvements:{permit_id}")
    assert fee_amount(fee, answers={}, on=clock.now().date()).amount_minor == int(permit.fee * 100)


def _paid(payment: Payment) -> Payment:
    checkout_start(
        payment=payment, email="p@example.org", language="es", success_url="/s", cancel_url="/c"
    )
    payment.refresh_from_db()
    sandbox_checkout_finish(payment.session_id or "", pay=True)
    payment.refresh_from_db()
    assert payment.state == "paid"
    return payment


@pytest.fixture
def supervisor(pothole: Any) -> Any:
    from townhall.catalog.models import DepartmentMember

    user = staff_user_create(username="sup", role=StaffRole.SUPERVISOR, password="pw-for-tests-1")
    DepartmentMember.objects.create(user=user, department=pothole.department)
    return user


def test_the_receipt_is_in_the_payers_language(owed: Payment):
    _paid(owed)
    receipt = Notification.objects.get(key=f"payment-receipt:{owed.pk}")
    assert "25,00" in receipt.body and receipt.language == "es"


def test_a_supervisor_refunds_with_a_reason_on_the_history(owed: Payment, supervisor: Any):
    payment = _paid(owed)
    with pytest.raises(ValidationFailed):
        refund_issue(payment=payment, amount_minor=1000, reason="  ", actor=supervisor)
    with pytest.raises(ValidationFailed):
        refund_issue(payment=payment, amount_minor=2600, reason="too much", actor=supervisor)
    refund_issue(
        payment=payment, amount_minor=1000, reason="Inspection not needed", actor=supervisor
    )
    payment.refresh_from_db()
    assert payment.state == "paid" and payment.refunded_minor == 1000
    refund_issue(payment=payment, amount_minor=1500, reason="Rest of it", actor=supervisor)
    payment.refresh_from_db()
    assert payment.state == "refunded" and payment.refunded_minor == 2500
    texts = [e.content.get("text", "") for e in CaseEvent.objects.filter(case=payment.case)]
    assert any("Inspection not needed" in t for t in texts)
    # The sandbox's own refund webhooks for those totals change nothing more.
    assert SandboxRecord.objects.get(session_id=payment.session_id).amount_refunded == 2500
    assert Notification.objects.filter(key__startswith=f"payment-refund:{payment.pk}:").count() == 2


def test_a_caseworker_cannot_refund(owed: Payment, caseworker: Any):
    payment = _paid(owed)
    with pytest.raises(RefundNotAllowed):
        refund_issue(payment=payment, amount_minor=100, reason="why not", actor=caseworker)
    payment.refresh_from_db()
    assert payment.refunded_minor == 0


def test_reconciliation_finds_a_missing_and_a_mismatched_record(owed: Payment, pothole: Any):
    payment = _paid(owed)
    # The provider has a checkout we know nothing of, and a different amount for ours.
    SandboxRecord.objects.create(
        session_id="cs_sandbox_stray",
        intent_id="pi_sandbox_stray",
        payment_reference="PAY-STRAY",
        amount_minor=999,
        currency="USD",
        status="paid",
        success_url="/",
        cancel_url="/",
    )
    SandboxRecord.objects.filter(session_id=payment.session_id).update(amount_minor=2400)
    report = payments_reconcile(day=clock.now().date(), provider="sandbox")
    kinds = {(m.kind, m.session_id) for m in report.mismatches}
    assert ("missing_here", "cs_sandbox_stray") in kinds
    assert ("amount", payment.session_id) in kinds
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("payments_reconcile", "--date", clock.now().date().isoformat(), stdout=out)
    assert "missing_here" in out.getvalue() and "PAY-STRAY" in out.getvalue()


def test_reconciliation_of_a_clean_day_is_clean(owed: Payment):
    _paid(owed)
    yesterday = clock.now().date() - timedelta(days=1)
    out = StringIO()
    call_command("payments_reconcile", "--date", yesterday.isoformat(), stdout=out)
    assert "0 mismatches" in out.getvalue()
    assert not payments_reconcile(day=clock.now().date()).mismatches


@override_settings(TOWNHALL_PAYMENTS={"STRIPE_SECRET_KEY": "sk_test_x"})
def test_the_stripe_adapter_creates_a_checkout_session_form_encoded():
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "cs_test_1", "url": "https://checkout.test/1"})

    adapter = StripeCheckout(client=httpx.Client(transport=httpx.MockTransport(answer)))
    checkout = adapter.checkout_create(
        CheckoutRequest("PAY-1", "Fee", 2500, "USD", "", "https://s", "https://c")
    )
    assert checkout.session_id == "cs_test_1"
    body = seen[0].content.decode()
    assert seen[0].url.path == "/v1/checkout/sessions"
    assert "unit_amount%5D=2500" in body and "currency%5D=usd" in body
    assert seen[0].headers["Authorization"] == "Bearer sk_test_x"


@override_settings(
    TOWNHALL_RATE_LIMITS={
        **__import__("django.conf").conf.settings.TOWNHALL_RATE_LIMITS,
        "payment": "5/minute",
    }
)
def test_guessing_payment_links_is_rate_limited(owed: Payment):
    client = Client()
    codes = [client.get(f"/pay/{'0' * 40}/").status_code for _ in range(8)]
    assert codes[:5] == [404] * 5 and codes[-1] == 429
    assert client.get(f"/pay/{payment_token(owed.reference)}/").status_code == 429


def test_the_console_shows_the_status_and_refunds_only_for_supervisors(
    owed: Payment, supervisor: Any, caseworker: Any
):
    from townhall.catalog.models import DepartmentMember

    DepartmentMember.objects.create(user=caseworker, department=owed.case.department)
    payment = _paid(owed)
    staff = Client()
    staff.force_login(caseworker)
    page = staff.get(f"/console/cases/{payment.case_id}/")
    assert page.status_code == 200 and "Payments and refunds" in page.content.decode()
    listed = staff.get(f"/console/cases/{payment.case_id}/payments/")
    assert listed.status_code == 200 and "$25.00" in listed.content.decode()
    denied = staff.post(
        f"/console/cases/{payment.case_id}/payments/",
        {"payment": payment.pk, "amount": "5.00", "reason": "no"},
    )
    assert denied.status_code == 403
    boss = Client()
    boss.force_login(supervisor)
    empty = boss.post(
        f"/console/cases/{payment.case_id}/payments/",
        {"payment": payment.pk, "amount": "5.00", "reason": ""},
    )
    assert empty.status_code == 400
    done = boss.post(
        f"/console/cases/{payment.case_id}/payments/",
        {"payment": payment.pk, "amount": "5.00", "reason": "Overcharged"},
    )
    assert done.status_code == 302
    payment.refresh_from_db()
    assert payment.refunded_minor == 500 and payment.refund_reason == "Overcharged"


def test_reconciliation_finds_a_payment_the_provider_does_not_list(owed: Payment):
    payment = _paid(owed)
    SandboxRecord.objects.filter(session_id=payment.session_id).delete()
    report = payments_reconcile(day=clock.now().date(), provider="sandbox")
    assert [(m.kind, m.reference) for m in report.mismatches] == [
        ("missing_at_provider", payment.reference)
    ]


def test_the_scheduled_task_reconciles_yesterday_once(owed: Payment):
    from townhall.payments.models import Reconciliation
    from townhall.payments.reconcile import reconcile_due
    from townhall.payments.tasks import payments_reconcile_task

    noon = clock.now().replace(hour=12)
    assert reconcile_due(noon.replace(hour=1), 3) is None  # too early in the day
    assert reconcile_due(noon, 3) == noon.date() - timedelta(days=1)
    import time_machine

    with time_machine.travel(noon, tick=False):
        assert payments_reconcile_task.call() == 0  # yesterday: nothing, and nothing wrong
        assert payments_reconcile_task.call() == -1  # done already
    assert Reconciliation.objects.get().day == noon.date() - timedelta(days=1)


def test_the_receipt_leaves_through_the_outbox(owed: Payment, settings: Any):
    from django.core import mail

    from townhall.notify.sending import notification_send_due

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _paid(owed)
    notification_send_due(now=clock.now() + timedelta(minutes=1))
    receipts = [m for m in mail.outbox if owed.reference in m.body]
    assert len(receipts) == 1 and receipts[0].to == ["p@example.org"]
    assert "Recibo" in receipts[0].subject  # the payer chose Spanish at checkout
