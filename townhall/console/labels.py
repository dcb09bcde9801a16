"""Words staff see where residents see others: a case's status, named for whoever reads it.

The cases app labels statuses as residents read them ("Awaiting your reply"); the console
shows the same statuses from the council's side ("Waiting for the resident").
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from townhall.cases.lifecycle import CaseStatus

STAFF_STATUS_LABELS: dict[str, Promise] = {
    CaseStatus.AWAITING_CITIZEN: _("Waiting for the resident"),
}


def staff_status_label(status: object) -> str:
    """The status `status` as staff read it (unknown values as they are)."""
    try:
        known = CaseStatus(str(status))
    except ValueError:
        return str(status)
    return str(STAFF_STATUS_LABELS.get(known, known.label))


def staff_status_choices(statuses: Iterable[str]) -> list[tuple[str, str]]:
    return [(str(s), staff_status_label(s)) for s in statuses]
