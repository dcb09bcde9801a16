"""What a case costs: its service type's fee, fixed or worked out by the rules engine.

A RULE fee evaluates its rules programme (townhall.rules, the same evaluation residents'
eligibility checks use) with the case's answers as the programme's inputs, on the day the
case opened; the decision's amount is the fee. A PERMIT fee is a permit's fee in a permit
tree. Rules amounts are Decimal: they become minor units here, and nowhere else.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import date

from townhall.core.errors import NotFound, ValidationFailed
from townhall.payments.models import Fee, FeeKind
from townhall.payments.money import Money
from townhall.rules.evaluation import Outcome, inputs_coerce, programme_evaluate
from townhall.rules.selectors import permit_tree_get, programme_get


class FeeUnavailable(ValidationFailed):
    """The fee cannot be worked out (the rules need more answers, or say not eligible)."""

    code = "payments.fee_unavailable"


# Every case opened asks whether its service has a fee (Open311 POST included), and fees
# change a few times a year: each process keeps the set of service types with an active fee
# for a minute, as the catalogue keeps its reads; saving a fee clears this process's copy.
_CACHE_SECONDS = 60.0
_fee_services: list[tuple[float, frozenset[int]]] = []


def fee_services_clear(**_: object) -> None:
    """Forget this process's set of service types with a fee (after an edit; in tests)."""
    _fee_services.clear()


def service_has_fee(service_type_id: int | None) -> bool:
    """Whether a service type has an active fee (no query while the process's copy is fresh)."""
    if service_type_id is None:
        return False
    if not _fee_services or _fee_services[0][0] <= time.monotonic():
        ids = Fee.objects.filter(active=True, service_type__isnull=False).values_list(
            "service_type_id", flat=True
        )
        _fee_services[:] = [(time.monotonic() + _CACHE_SECONDS, frozenset(ids))]
    return service_type_id in _fee_services[0][1]


def fee_for_service(service_type_id: int | None) -> Fee | None:
    """The active fee of a service type, if it has one."""
    if service_type_id is None:
        return None
    return Fee.objects.filter(service_type_id=service_type_id, active=True).first()


def fee_for_permit(tree_id: str, permit_id: str) -> Fee | None:
    return Fee.objects.filter(permit=f"{tree_id}:{permit_id}", active=True).first()


def fee_amount(fee: Fee, *, answers: Mapping[str, object], on: date, language: str = "en") -> Money:
    """The amount `fee` asks for these answers; FeeUnavailable if the rules cannot say."""
    if fee.kind == FeeKind.FIXED:
        return Money(fee.amount_minor, fee.currency)
    if fee.kind == FeeKind.PERMIT:
        tree_id, _sep, permit_id = fee.permit.partition(":")
        try:
            tree = permit_tree_get(tree_id=tree_id)
        except NotFound as exc:
            raise FeeUnavailable(exc.message) from exc
        if permit_id not in tree.permits:
            raise FeeUnavailable(f"No permit {permit_id!r} in {tree_id!r}")
        return Money.from_decimal(tree.permits[permit_id].fee, fee.currency)
    try:
        programme = programme_get(rule_id=fee.programme)
    except NotFound as exc:
        raise FeeUnavailable(exc.message) from exc
    raw = {name: value for name, value in answers.items() if name in programme.inputs}
    decision = programme_evaluate(
        programme, inputs=inputs_coerce(programme, raw), on=on, language=language
    )
    if decision.outcome != Outcome.ELIGIBLE or decision.amount is None:
        raise FeeUnavailable(
            "The fee cannot be worked out from these answers.",
            details={"answers": [decision.explanation or decision.outcome.value]},
        )
    return Money.from_decimal(decision.amount, fee.currency)
