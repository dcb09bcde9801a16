"""Stripe-shaped events as Stripe sends them (tests/payments/data), through the Stripe
route of the hook, signed with the endpoint's secret; and the admin screens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from townhall.core import clock
from townhall.payments.models import Payment
from townhall.payments.signing import HEADER, signature_header

DATA = Path(__file__).parent / "data"
SECRET = "whsec_test_recorded"


@pytest.fixture
def stripe_payment(owed: Payment, settings: Any) -> Payment:
    settings.TOWNHALL_PAYMENTS = {"PROVIDER": "stripe", "STRIPE_WEBHOOK_SECRET": SECRET}
    Payment.objects.filter(pk=owed.pk).update(
        provider="stripe",
        reference="PAY-RECORDED01",
        session_id="cs_test_a1TownhallRecordedSession01",
        state="pending",
    )
    owed.refresh_from_db()
    return owed


def _post(name: str, *, secret: str = SECRET) -> Any:
    body = (DATA / name).read_bytes()
    header = signature_header(secret, body, int(clock.now().timestamp()))
    return Client().post(
        "/hooks/payments/stripe/", body, content_type="application/json", headers={HEADER: header}
    )


def test_a_recorded_completion_then_refund_from_stripe(stripe_payment: Payment):
    assert _post("stripe_charge_refunded.json").json()["outcome"] == "deferred"
    done = _post("stripe_checkout_session_completed.json")
    assert done.status_code == 200 and done.json()["outcome"] == "applied"
    stripe_payment.refresh_from_db()
    assert stripe_payment.intent_id == "pi_3QxTownhallRecorded01"
    assert stripe_payment.state == "refunded" and stripe_payment.refunded_minor == 2500


def test_the_sandbox_secret_does_not_sign_for_stripe(stripe_payment: Payment):
    response = _post("stripe_checkout_session_completed.json", secret="whsec_sandbox_not_secret")
    assert response.status_code == 400
    stripe_payment.refresh_from_db()
    assert stripe_payment.state == "pending"


def test_stripe_without_a_secret_refuses_everything(stripe_payment: Payment, settings: Any):
    settings.TOWNHALL_PAYMENTS = {"PROVIDER": "stripe", "STRIPE_WEBHOOK_SECRET": ""}
    assert _post("stripe_checkout_session_completed.json", secret="").status_code == 400


def test_the_admin_screens_list_fees_and_payments(owed: Payment, django_user_model: Any):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw-12345678")
    client = Client()
    client.force_login(admin)
    for path in ("/admin/payments/fee/", "/admin/payments/providerevent/"):
        assert client.get(path).status_code == 200, path
    listing = client.get("/admin/payments/payment/")
    assert listing.status_code == 200 and owed.reference in listing.content.decode()
    assert "Inspection fee" in client.get("/admin/payments/fee/").content.decode()
    detail = client.get(f"/admin/payments/payment/{owed.pk}/change/")
    assert detail.status_code == 200 and "token_hash" not in detail.content.decode()
