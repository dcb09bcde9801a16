"""The sandbox checkout end to end, and the webhook's defences: replays, forgeries, stale
timestamps, wrong money, unknown sessions, events out of order."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.test import Client
from django.urls import reverse

from townhall.cases.errors import InvalidTransition
from townhall.cases.models import CaseEvent
from townhall.cases.services import case_transition
from townhall.core import clock
from townhall.notify.models import Notification
from townhall.payments.links import payment_token
from townhall.payments.models import EventOutcome, Payment, ProviderEvent, SandboxRecord
from townhall.payments.providers.sandbox import sandbox_event, sandbox_signed
from townhall.payments.services import checkout_start
from townhall.payments.signing import HEADER, signature_header

URL = "/hooks/payments/sandbox/"


def _start(payment: Payment, email: str = "payer@example.org") -> SandboxRecord:
    checkout_start(
        payment=payment,
        email=email,
        language="en",
        success_url="https://town.example/done",
        cancel_url="https://town.example/pay",
    )
    payment.refresh_from_db()
    return SandboxRecord.objects.get(session_id=payment.session_id)


def _post(client: Client, event: dict[str, Any], *, at: int | None = None) -> Any:
    body, headers = sandbox_signed(event, at=at)
    return client.post(
        URL, body, content_type="application/json", headers={HEADER: headers[HEADER]}
    )


def _state(payment: Payment) -> str:
    payment.refresh_from_db()
    return payment.state


@pytest.fixture
def client() -> Client:
    return Client()


def test_a_case_with_a_fee_owes_it_and_waits_until_it_is_paid(owed: Payment, caseworker: Any):
    assert owed.state == "due" and owed.amount_minor == 2500 and owed.currency == "USD"
    with pytest.raises(InvalidTransition):
        case_transition(case=owed.case, to="in_progress", actor=caseworker)
    owed.case.refresh_from_db()
    assert owed.case.status == "new"


def test_sandbox_success_marks_paid_records_history_and_queues_a_receipt(
    owed: Payment, client: Client, caseworker: Any
):
    record = _start(owed)
    page = client.get(reverse("portal:payment-sandbox", args=[record.session_id]))
    assert page.status_code == 200
    done = client.post(
        reverse("portal:payment-sandbox", args=[record.session_id]), {"outcome": "pay"}
    )
    assert done.status_code == 302 and done["Location"] == "https://town.example/done"
    assert _state(owed) == "paid"
    notes = [e for e in CaseEvent.objects.filter(case=owed.case) if "payment" in e.data]
    assert notes and notes[-1].data["payment"]["state"] == "paid"
    receipt = Notification.objects.get(key=f"payment-receipt:{owed.pk}")
    assert receipt.to == "payer@example.org" and "$25.00" in receipt.body
    case_transition(case=owed.case, to="in_progress", actor=caseworker)  # no longer held


def test_sandbox_decline_marks_failed_and_the_case_stays_held(owed: Payment, client: Client):
    record = _start(owed)
    client.post(reverse("portal:payment-sandbox", args=[record.session_id]), {"outcome": "no"})
    assert _state(owed) == "failed"
    assert not Notification.objects.filter(key=f"payment-receipt:{owed.pk}").exists()


def test_a_duplicate_event_is_taken_once(owed: Payment, client: Client):
    record = _start(owed)
    event = sandbox_event("checkout.session.completed", record, event_id="evt_dup_1")
    first = _post(client, event)
    again = _post(client, event, at=int(clock.now().timestamp()) + 1)  # a retry, new signature
    assert first.status_code == 200 and first.json()["outcome"] == "applied"
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert ProviderEvent.objects.filter(event_id="evt_dup_1").count() == 1
    assert Notification.objects.filter(key__startswith="payment-receipt:").count() == 1


def test_the_very_same_request_replayed_is_refused(owed: Payment, client: Client):
    record = _start(owed)
    body, headers = sandbox_signed(sandbox_event("checkout.session.completed", record))
    first = client.post(URL, body, content_type="application/json", headers=headers)
    second = client.post(URL, body, content_type="application/json", headers=headers)
    assert first.status_code == 200 and second.status_code == 409


def test_completed_after_failed_is_paid_and_failed_after_paid_is_ignored(
    owed: Payment, client: Client
):
    record = _start(owed)
    _post(client, sandbox_event("payment_intent.payment_failed", record))
    assert _state(owed) == "failed"
    _post(client, sandbox_event("checkout.session.completed", record))
    assert _state(owed) == "paid"
    late = _post(client, sandbox_event("payment_intent.payment_failed", record))
    assert late.json()["outcome"] == "stale" and _state(owed) == "paid"


def test_a_refund_before_its_completion_is_kept_then_applied(owed: Payment, client: Client):
    record = _start(owed)
    record.amount_refunded = 2500
    early = _post(client, sandbox_event("charge.refunded", record))
    assert early.json()["outcome"] == "deferred" and _state(owed) == "pending"
    _post(client, sandbox_event("checkout.session.completed", record))
    owed.refresh_from_db()
    assert owed.state == "refunded" and owed.refunded_minor == 2500
    assert ProviderEvent.objects.filter(outcome=EventOutcome.DEFERRED).count() == 0


def test_a_forged_signature_changes_nothing(owed: Payment, client: Client):
    record = _start(owed)
    body = orjson.dumps(sandbox_event("checkout.session.completed", record))
    now = int(clock.now().timestamp())
    forged = signature_header("not-the-secret", body, now)
    response = client.post(URL, body, content_type="application/json", headers={HEADER: forged})
    assert response.status_code == 400 and response.json()["outcome"] == "bad_signature"
    missing = client.post(URL, body, content_type="application/json")
    assert missing.status_code == 400
    assert _state(owed) == "pending" and not ProviderEvent.objects.exists()


def test_a_stale_timestamp_is_refused(owed: Payment, client: Client):
    record = _start(owed)
    old = int(clock.now().timestamp()) - 301
    response = _post(client, sandbox_event("checkout.session.completed", record), at=old)
    assert response.status_code == 400 and "tolerance" in response.json()["errors"][0]["message"]
    assert _state(owed) == "pending"


@pytest.mark.parametrize(("amount", "currency"), [(100, None), (2500, "eur")])
def test_wrong_amount_or_currency_never_marks_paid(
    owed: Payment, client: Client, amount: int, currency: str | None
):
    record = _start(owed)
    event = sandbox_event(
        "checkout.session.completed", record, amount_minor=amount, currency=currency
    )
    response = _post(client, event)
    assert response.status_code == 400 and response.json()["outcome"] == "rejected"
    assert _state(owed) == "pending"


def test_an_unknown_session_is_ignored(owed: Payment, client: Client):
    record = _start(owed)
    record.session_id, record.intent_id, record.payment_reference = "cs_other", "pi_other", "X"
    response = _post(client, sandbox_event("checkout.session.completed", record))
    assert response.status_code == 200 and response.json()["outcome"] == "unknown"
    assert _state(owed) == "pending"


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'{"id": "evt_1"}', b'{"id": 1, "type": "x", "data": {}}']
)
def test_bad_bodies_get_400_json(client: Client, body: bytes):
    headers = {
        HEADER: signature_header("whsec_sandbox_not_secret", body, int(clock.now().timestamp()))
    }
    response = client.post(URL, body, content_type="application/json", headers=headers)
    assert response.status_code == 400 and response.json()["errors"]


def test_unknown_provider_is_404_json(client: Client):
    response = client.post("/hooks/payments/nope/", b"{}", content_type="application/json")
    assert response.status_code == 404 and response.json()["errors"]


def test_the_pay_page_needs_the_unguessable_link(owed: Payment, client: Client):
    token = payment_token(owed.reference)
    assert client.get(f"/pay/{token}/").status_code == 200
    near = token[:-1] + ("1" if token[-1] == "0" else "0")  # one character off
    for guess in (owed.reference, str(owed.pk), str(owed.case_id), near):
        assert client.get(f"/pay/{guess}/").status_code == 404
        assert client.post(f"/pay/{guess}/", {"email": ""}).status_code == 404


def test_the_resident_pays_through_the_pages_without_javascript(owed: Payment, client: Client):
    token = payment_token(owed.reference)
    page = client.get(f"/pay/{token}/", HTTP_ACCEPT_LANGUAGE="es")
    html = page.content.decode()
    assert "25,00\u00a0$" in html and '<form method="post"' in html  # a plain form
    assert "Pagar una tasa" in html and "Continuar al pago" in html
    start = client.post(f"/pay/{token}/", {"email": "rosa@example.org"})
    assert start.status_code == 302 and "/pay/sandbox/checkout/" in start["Location"]
    checkout = client.get(start["Location"])
    assert "$25.00" in checkout.content.decode()
    back = client.post(start["Location"], {"outcome": "pay"})
    assert back.status_code == 302 and back["Location"].endswith(f"/pay/{token}/done/")
    done = client.get(f"/pay/{token}/done/")
    assert owed.reference in done.content.decode() and _state(owed) == "paid"
    again = client.post(f"/pay/{token}/", {"email": ""})  # paid: nothing to start
    assert again.status_code == 200 and _state(owed) == "paid"
    closed = client.post(start["Location"], {"outcome": "pay"})
    assert closed.status_code == 200
    assert Notification.objects.filter(key__startswith="payment-receipt:").count() == 1


def test_a_flood_of_webhooks_is_rate_limited(client: Client, settings: Any):
    settings.TOWNHALL_RATE_LIMITS = {**settings.TOWNHALL_RATE_LIMITS, "hooks": "5/minute"}
    codes = [client.post(URL, b"{}", content_type="application/json").status_code for _ in range(7)]
    assert codes[:5] == [400] * 5 and codes[-1] == 429


def test_the_private_request_page_leads_to_the_pay_page(owed: Payment, client: Client):
    from townhall.cases.tracking import track_path

    page = client.get(track_path(owed.case)).content.decode()
    assert f"/pay/{payment_token(owed.reference)}/" in page and "$25.00" in page


def test_a_checkout_is_reused_for_a_day_then_renewed(owed: Payment):
    from datetime import timedelta

    first = _start(owed)
    assert _start(owed).session_id == first.session_id
    Payment.objects.filter(pk=owed.pk).update(updated_at=clock.now() - timedelta(hours=24))
    assert _start(owed).session_id != first.session_id
