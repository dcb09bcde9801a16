"""The demo town's fee (`townhall demo`): one service type costs a fixed amount, paid
through the configured provider (the sandbox, in the demo). Safe to run again."""

from __future__ import annotations

from townhall.catalog.models import ServiceType
from townhall.payments.conf import payments_setting
from townhall.payments.models import Fee, FeeKind


def demo_fee_load(*, jurisdiction_slug: str, service_code: str, amount_minor: int) -> Fee:
    """The active fixed fee of the service `service_code`, made if it has none."""
    service = ServiceType.objects.get(jurisdiction__slug=jurisdiction_slug, code=service_code)
    fee = Fee.objects.filter(service_type=service, active=True).first()
    if fee is not None:
        return fee
    return Fee.objects.create(
        name=f"{service.name} fee",
        service_type=service,
        kind=FeeKind.FIXED,
        amount_minor=amount_minor,
        currency=payments_setting("CURRENCY"),
    )
