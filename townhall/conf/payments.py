"""Payments settings: the provider, the currency and the provider's secrets (docs/payments.md)."""

from __future__ import annotations

import environ
from django.core.exceptions import ImproperlyConfigured


def payments_settings(env: environ.Env, *, production: bool) -> dict[str, str]:
    """TOWNHALL_PAYMENTS from the environment (read by payments/conf.py).

    The sandbox marks a fee paid without money (and its webhook secret is public): never in
    production, whose default is Stripe (no payments until its keys are set).
    """
    provider = env.str("PAYMENTS_PROVIDER", default="stripe" if production else "sandbox")
    if production and provider == "sandbox":
        raise ImproperlyConfigured("PAYMENTS_PROVIDER=sandbox is for tests and the demo")
    return {
        "PROVIDER": provider,
        "CURRENCY": env.str("PAYMENTS_CURRENCY", default="USD"),
        "STRIPE_SECRET_KEY": env.str("STRIPE_SECRET_KEY", default=""),
        "STRIPE_WEBHOOK_SECRET": env.str("STRIPE_WEBHOOK_SECRET", default=""),
    }
