"""Case statuses and the moves allowed between them: a pure table, no database."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from townhall.cases.errors import InvalidTransition


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in_progress", _("In progress")
    AWAITING_CITIZEN = "awaiting_citizen", _("Awaiting your reply")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    DUPLICATE = "duplicate", _("Duplicate")
    REOPENED = "reopened", _("Reopened")


S = CaseStatus

# Each status maps to the statuses a case may move to next. DUPLICATE is reached only by
# merging (it needs the case it was merged into); CLOSED and DUPLICATE are final.
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.NEW: frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS, S.REJECTED, S.DUPLICATE}),
    S.ACKNOWLEDGED: frozenset(
        {S.IN_PROGRESS, S.AWAITING_CITIZEN, S.RESOLVED, S.REJECTED, S.DUPLICATE}
    ),
    S.IN_PROGRESS: frozenset({S.AWAITING_CITIZEN, S.RESOLVED, S.REJECTED, S.DUPLICATE}),
    S.AWAITING_CITIZEN: frozenset({S.IN_PROGRESS, S.RESOLVED, S.REJECTED, S.DUPLICATE}),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.REJECTED: frozenset({S.REOPENED}),
    S.REOPENED: frozenset({S.IN_PROGRESS, S.AWAITING_CITIZEN, S.RESOLVED, S.REJECTED, S.DUPLICATE}),
    S.CLOSED: frozenset(),
    S.DUPLICATE: frozenset(),
}

OPEN_STATUSES = frozenset({S.NEW, S.ACKNOWLEDGED, S.IN_PROGRESS, S.AWAITING_CITIZEN, S.REOPENED})
# The SLA clock stops while the council waits for the resident, and for good once done.
PAUSED_STATUSES = frozenset({S.AWAITING_CITIZEN})
FINISHED_STATUSES = frozenset({S.RESOLVED, S.CLOSED, S.REJECTED, S.DUPLICATE})


def transition_check(current: CaseStatus | str, target: CaseStatus | str) -> CaseStatus:
    """Return `target` as a status if a case may move there from `current`.

    Raise InvalidTransition if the move is not in the table.
    """
    source, dest = CaseStatus(current), CaseStatus(target)
    if dest not in TRANSITIONS[source]:
        raise InvalidTransition(
            gettext("A case cannot go from %(from)s to %(to)s.")
            % {"from": source.label, "to": dest.label},
            details={
                "status": [
                    gettext("allowed from %(status)s: %(allowed)s")
                    % {"status": source.value, "allowed": allowed_next(source)}
                ]
            },
        )
    return dest


def allowed_next(current: CaseStatus | str) -> list[str]:
    """Return the statuses reachable from `current`, sorted, for forms and error messages."""
    return sorted(s.value for s in TRANSITIONS[CaseStatus(current)])
