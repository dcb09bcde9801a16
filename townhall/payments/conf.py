"""The payments settings (settings.TOWNHALL_PAYMENTS), with their defaults."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "PROVIDER": "sandbox",  # "sandbox" or "stripe"
    "CURRENCY": "USD",
    "TOLERANCE_SECONDS": 300,  # a webhook's signed timestamp is accepted this far from now
    "SANDBOX_WEBHOOK_SECRET": "whsec_sandbox_not_secret",
    "STRIPE_API_BASE": "https://api.stripe.com",
    "STRIPE_SECRET_KEY": "",
    "STRIPE_WEBHOOK_SECRET": "",
    "RECONCILE_HOUR": 3,  # the daily run reconciles yesterday once past this local hour
}


def payments_setting(name: str) -> Any:
    configured = getattr(settings, "TOWNHALL_PAYMENTS", {}) or {}
    return configured.get(name, DEFAULTS[name])
