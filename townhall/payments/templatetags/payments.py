"""`{% case_payments case %}`: a case's payment status where staff work on it."""

from __future__ import annotations

from typing import Any

from django import template

from townhall.payments.selectors import payments_of_case, payments_of_case_marked

register = template.Library()


@register.inclusion_tag("payments/case_status.html")
def case_payments(case: Any) -> dict[str, Any]:
    return {"case": case, "payments": payments_of_case(case.pk)}


@register.inclusion_tag("payments/resident_due.html")
def resident_payments(case: Any) -> dict[str, Any]:
    """On the resident's private request page: the fee to pay, or the receipt (no query
    for a case without payments: the page is held to three)."""
    return {"payments": payments_of_case_marked(case.pk)}
