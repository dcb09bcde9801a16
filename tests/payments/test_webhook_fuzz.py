"""Signed but arbitrary bodies: the payment hook answers 200, 400 or 409, never a 500,
and never marks anything paid."""

from __future__ import annotations

from typing import Any

import orjson
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from townhall.core import clock
from townhall.payments.models import Payment
from townhall.payments.signing import HEADER, signature_header

SECRET = "whsec_sandbox_not_secret"
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
events = st.fixed_dictionaries(
    {
        "id": st.text(max_size=30) | st.integers(),
        "type": st.sampled_from(
            ["checkout.session.completed", "payment_intent.payment_failed", "charge.refunded"]
        )
        | st.text(max_size=20),
        "data": st.fixed_dictionaries(
            {
                "object": st.fixed_dictionaries(
                    {},
                    optional={
                        "id": st.text(max_size=20),
                        "object": st.sampled_from(["checkout.session", "charge", "payment_intent"]),
                        "amount_total": json_values,
                        "amount": json_values,
                        "amount_refunded": json_values,
                        "currency": json_values,
                        "payment_status": st.sampled_from(["paid", "unpaid"]) | json_values,
                        "metadata": json_values,
                        "client_reference_id": json_values,
                        "payment_intent": json_values,
                    },
                )
                | json_values
            }
        )
        | json_values,
    }
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(event=events, raw=st.booleans())
def test_signed_nonsense_never_breaks_the_hook(owed: Payment, event: Any, raw: bool) -> None:
    try:
        body = orjson.dumps(event) if not raw else repr(event).encode()
    except TypeError:
        body = b"{"
    header = signature_header(SECRET, body, int(clock.now().timestamp()))
    response = Client().post(
        "/hooks/payments/sandbox/", body, content_type="application/json", headers={HEADER: header}
    )
    assert response.status_code in (200, 400, 409), response.content
    assert response.json()
    owed.refresh_from_db()
    assert owed.state == "due"
