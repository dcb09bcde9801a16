"""On PostgreSQL: the same event delivered twice at once, and a completion racing a
failure, are applied once and end in the right state."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from townhall.payments.models import Payment, ProviderEvent, SandboxRecord
from townhall.payments.providers.sandbox import sandbox_event, sandbox_signed
from townhall.payments.services import checkout_start
from townhall.payments.webhooks import webhook_receive


def _race(bodies: list[tuple[bytes, dict[str, str]]]) -> list[str]:
    outcomes: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(bodies))

    def deliver(body: bytes, headers: dict[str, str]) -> None:
        try:
            start.wait()
            result = webhook_receive(provider="sandbox", body=body, headers=headers)
            outcomes.append(result.outcome)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=b) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_a_doubled_delivery_at_the_same_moment_is_applied_once(owed: Payment, fee: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent deliveries are exercised on PostgreSQL (DATABASE_URL)")
    checkout_start(payment=owed, email="", language="en", success_url="/s", cancel_url="/c")
    owed.refresh_from_db()
    record = SandboxRecord.objects.get(session_id=owed.session_id)
    event = sandbox_event("checkout.session.completed", record, event_id="evt_race")
    outcomes = _race([sandbox_signed(event), sandbox_signed(event, at=None)] * 2)
    assert sorted(outcomes) == ["applied", "duplicate", "duplicate", "duplicate"]
    owed.refresh_from_db()
    assert owed.state == "paid" and ProviderEvent.objects.count() == 1
    failed = sandbox_event("payment_intent.payment_failed", record)
    completed_again = sandbox_event("checkout.session.completed", record)
    assert sorted(_race([sandbox_signed(failed), sandbox_signed(completed_again)])) == [
        "stale",
        "stale",
    ]
    owed.refresh_from_db()
    assert owed.state == "paid"
