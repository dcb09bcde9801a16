"""Stripe Checkout, over the project's pooled HTTP client (notify.channels.http).

Creates a Checkout Session (form-encoded POST /v1/checkout/sessions) and sends the resident
to its `url`; Stripe tells us what happened by signed webhooks. No Stripe SDK: three calls
and the signature check (signing.py) are all Townhall needs. Tests pass an `httpx` mock
transport in `client`; nothing here touches the network at import.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx

from townhall.payments.conf import payments_setting
from townhall.payments.providers.base import (
    Checkout,
    CheckoutRequest,
    PaymentProvider,
    ProviderError,
    ProviderRecord,
)


class StripeCheckout(PaymentProvider):
    name = "stripe"

    def __init__(self, client: httpx.Client | None = None) -> None:
        self._client = client

    def webhook_secret(self) -> str:
        return str(payments_setting("STRIPE_WEBHOOK_SECRET"))

    def _http(self) -> httpx.Client:
        if self._client is None:
            from townhall.notify.channels.http import http_client

            self._client = http_client()
        return self._client

    def _call(self, method: str, path: str, data: list[tuple[str, Any]]) -> dict[str, Any]:
        key = str(payments_setting("STRIPE_SECRET_KEY"))
        if not key:
            raise ProviderError("Stripe is not configured (STRIPE_SECRET_KEY).")
        url = str(payments_setting("STRIPE_API_BASE")).rstrip("/") + path
        headers = {"Authorization": f"Bearer {key}", "Stripe-Version": "2024-06-20"}
        try:
            if method == "GET":
                response = self._http().get(url, params=data, headers=headers)
            else:
                response = self._http().post(url, data=dict(data), headers=headers)
        except httpx.HTTPError as exc:
            raise ProviderError(f"Stripe could not be reached ({type(exc).__name__}).") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400 or not isinstance(body, dict):
            error = body.get("error", {}) if isinstance(body, dict) else {}
            message = error.get("message", "") if isinstance(error, dict) else ""
            raise ProviderError(f"Stripe refused ({response.status_code}): {message}"[:300])
        return body

    def checkout_create(self, request: CheckoutRequest) -> Checkout:
        fields = [
            ("mode", "payment"),
            ("client_reference_id", request.reference),
            ("success_url", request.success_url),
            ("cancel_url", request.cancel_url),
            ("line_items[0][quantity]", "1"),
            ("line_items[0][price_data][currency]", request.currency.lower()),
            ("line_items[0][price_data][unit_amount]", str(request.amount_minor)),
            ("line_items[0][price_data][product_data][name]", request.description[:200]),
            ("metadata[payment]", request.reference),
            ("payment_intent_data[metadata][payment]", request.reference),
        ]
        if request.email:
            fields.append(("customer_email", request.email))
        body = self._call("POST", "/v1/checkout/sessions", fields)
        if not isinstance(body.get("id"), str) or not isinstance(body.get("url"), str):
            raise ProviderError("Stripe answered without a session id and url.")
        return Checkout(session_id=body["id"], url=body["url"])

    def refund(self, *, session_id: str, intent_id: str, amount_minor: int) -> str:
        if not intent_id:
            raise ProviderError("This payment has no payment intent to refund.")
        fields = [("payment_intent", intent_id), ("amount", str(amount_minor))]
        body = self._call("POST", "/v1/refunds", fields)
        return str(body.get("id", ""))

    def records(self, *, day: date) -> list[ProviderRecord]:
        start = int(datetime.combine(day, time(0), tzinfo=UTC).timestamp())
        end = int((datetime.combine(day, time(0), tzinfo=UTC) + timedelta(days=1)).timestamp())
        found: list[ProviderRecord] = []
        after = ""
        while True:
            params = [
                ("created[gte]", str(start)),
                ("created[lt]", str(end)),
                ("limit", "100"),
                ("expand[]", "data.payment_intent.latest_charge"),
            ]
            if after:
                params.append(("starting_after", after))
            page = self._call("GET", "/v1/checkout/sessions", params)
            rows = page.get("data") or []
            for row in rows:
                found.append(_record(row))
            if not page.get("has_more") or not rows:
                return found
            after = str(rows[-1].get("id", ""))


def _record(row: dict[str, Any]) -> ProviderRecord:
    intent: dict[str, Any] = (
        row["payment_intent"] if isinstance(row.get("payment_intent"), dict) else {}
    )
    charge: dict[str, Any] = (
        intent["latest_charge"] if isinstance(intent.get("latest_charge"), dict) else {}
    )
    refunded = int(charge.get("amount_refunded") or 0)
    status = "paid" if row.get("payment_status") == "paid" else "open"
    if refunded:
        status = "refunded"
    return ProviderRecord(
        session_id=str(row.get("id", "")),
        reference=str(
            (row.get("metadata") or {}).get("payment") or row.get("client_reference_id") or ""
        ),
        amount_minor=int(row.get("amount_total") or 0),
        currency=str(row.get("currency") or "").upper(),
        status=status,
        amount_refunded=refunded,
    )
