"""Payment providers behind one interface (base.PaymentProvider); `provider_get(name)`."""

from __future__ import annotations

from townhall.payments.conf import payments_setting
from townhall.payments.providers.base import PaymentProvider

_override: dict[str, PaymentProvider] = {}


def provider_get(name: str | None = None) -> PaymentProvider:
    """The provider `name` (the configured one by default); KeyError if unknown."""
    key = name or str(payments_setting("PROVIDER"))
    if key in _override:
        return _override[key]
    if key == "sandbox":
        from townhall.payments.providers.sandbox import SandboxProvider

        return SandboxProvider()
    if key == "stripe":
        from townhall.payments.providers.stripe import StripeCheckout

        return StripeCheckout()
    raise KeyError(key)


def provider_override(name: str, provider: PaymentProvider | None) -> None:
    """Use `provider` for `name` (tests: Stripe over a mock transport); None restores."""
    if provider is None:
        _override.pop(name, None)
    else:
        _override[name] = provider


PROVIDERS = ("sandbox", "stripe")
