"""A case with a fee waits for its payment (named in TOWNHALL_CASE_EVENT_SUBSCRIBERS).

- `payment_on_case_opened`: a case just opened for a service type with a fee owes it.
- `hold_on_status_changed`: while a payment of the case is unpaid, the case cannot move on
  to "in progress" or "resolved"; raising inside the event's transaction refuses the move
  (nothing is written). Rejecting, closing or asking the resident something stays open.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from townhall.cases.dispatch import wants
from townhall.cases.errors import InvalidTransition
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEvent
from townhall.payments.fees import service_has_fee
from townhall.payments.services import payment_for_new_case, payments_unpaid

HELD_TARGETS = frozenset({CaseStatus.IN_PROGRESS.value, CaseStatus.RESOLVED.value})


class CaseAwaitsPayment(InvalidTransition):
    code = "payments.case_awaits_payment"


def _owes_fee(case: Case) -> bool:
    return service_has_fee(case.service_type_id)


@wants(_owes_fee)
def payment_on_case_opened(event: CaseEvent) -> None:
    # The opening hands over the event with its case attached: most services have no fee,
    # and then this costs no query.
    service_type_id = (
        event.case.service_type_id
        if CaseEvent.case.is_cached(event)
        else Case.objects.filter(pk=event.case_id).values_list("service_type_id", flat=True)[0]
    )
    if not service_has_fee(service_type_id):
        return
    case = Case.objects.select_related("reporter").get(pk=event.case_id)
    payment_for_new_case(case)


def hold_on_status_changed(event: CaseEvent) -> None:
    target = (event.data or {}).get("to")
    if target in HELD_TARGETS and payments_unpaid(event.case_id):
        raise CaseAwaitsPayment(
            _("This request waits for its fee to be paid."),
            details={"status": [_("The fee is not paid yet.")]},
        )
