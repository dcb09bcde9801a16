"""Security review of payments (session 28): an attacker's and a careless client's view."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import orjson
import pytest
from django.test import Client

from townhall.cases.services import case_open
from townhall.core import clock
from townhall.payments.models import Fee, FeeKind, Payment, SandboxRecord
from townhall.payments.providers.sandbox import sandbox_event, sandbox_signed
from townhall.payments.services import checkout_start
from townhall.payments.signing import HEADER

PROD = {
    "TOWNHALL_ENV": "production",
    "SECRET_KEY": "review-secret",
    "ALLOWED_HOSTS": "townhall.example.org",
    "REDIS_URL": "redis://127.0.0.1:6379/14",
}


def _provider_in_production(extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import townhall.settings as s; print(s.TOWNHALL_PAYMENTS['PROVIDER'])"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "SECRET_KEY", "TOWNHALL_ENV", "PAYMENTS_PROVIDER"}
    }
    env.update(PROD)
    env.update(extra)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )


def test_production_does_not_default_to_the_free_sandbox_checkout() -> None:
    # The sandbox's checkout page has a "Pay" button that marks a fee paid without money,
    # and its webhook secret is public: a production site must not use it by default.
    result = _provider_in_production({})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "stripe"


def test_production_refuses_the_sandbox_provider() -> None:
    result = _provider_in_production({"PAYMENTS_PROVIDER": "sandbox"})
    assert result.returncode != 0
    assert "ImproperlyConfigured: PAYMENTS_PROVIDER" in result.stderr


# --- the sandbox's public webhook secret on a production site -------------------------


@pytest.fixture
def owed(pothole: Any, resident: Any) -> Payment:
    Fee.objects.create(
        name="Inspection fee",
        service_type=pothole,
        kind=FeeKind.FIXED,
        amount_minor=2500,
        currency="USD",
    )
    case = case_open(
        service_type=pothole,
        channel="web",
        description="Deep hole",
        answers={"size": "large"},
        lat=42.36,
        long=-71.09,
        reporter=resident,
    )
    return Payment.objects.get(case=case)


def test_production_refuses_sandbox_webhooks_signed_with_the_public_secret(
    owed: Payment, settings: Any
) -> None:
    # A site that ran with the old default still has sandbox payments; its sandbox webhook
    # secret is in the source ("whsec_sandbox_not_secret"), so anyone could sign
    # "checkout.session.completed" for a reference and amount they read on the pay page.
    checkout_start(
        payment=owed,
        email="",
        language="en",
        success_url="https://town.example/done",
        cancel_url="https://town.example/pay",
    )
    owed.refresh_from_db()
    record = SandboxRecord.objects.get(session_id=owed.session_id)
    settings.PRODUCTION = True
    body, headers = sandbox_signed(sandbox_event("checkout.session.completed", record))
    response = Client().post(
        "/hooks/payments/sandbox/",
        body,
        content_type="application/json",
        headers={HEADER: headers[HEADER]},
    )
    assert response.status_code == 400
    owed.refresh_from_db()
    assert owed.state == "pending"


def test_a_signed_event_with_a_nul_character_is_a_400_not_a_500(owed: Payment) -> None:
    # PostgreSQL's jsonb cannot store U+0000: kept as the event's payload, it was a 500.
    from townhall.payments.conf import payments_setting
    from townhall.payments.signing import signature_header

    event = {
        "id": "evt_nul",
        "type": "payment_intent.payment_failed",
        "data": {"object": {"id": "pi_x", "object": "payment_intent", "metadata": {"a\x00": 1}}},
    }
    body = orjson.dumps(event)
    assert b"\\u0000" in body
    secret = str(payments_setting("SANDBOX_WEBHOOK_SECRET"))
    header = signature_header(secret, body, int(clock.now().timestamp()))
    response = Client().post(
        "/hooks/payments/sandbox/", body, content_type="application/json", headers={HEADER: header}
    )
    assert response.status_code == 400
    assert response.json()["outcome"] == "bad_event"
    owed.refresh_from_db()
    assert owed.state == "due"
