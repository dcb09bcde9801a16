"""What the resident who made a report may do to it themselves, signed in: add an update
(a message kept with the case for staff) and withdraw it (the case is closed, with the
reason "withdrawn by the resident" on its history).

Only the report's proven owner may: the case's reporter, signed in, whose account shows
the report (it came through a contact they have proven, or no contact was recorded with
it: the same rule as the account page, ``people.selectors.cases_proven_for``). A private
tracking link proves nothing about who holds it, so it is not enough on its own.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from townhall.cases.errors import InvalidCaseInput
from townhall.cases.lifecycle import OPEN_STATUSES, CaseStatus
from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.cases.services import case_change, case_note_add, case_transition
from townhall.core import clock
from townhall.people.models import Channel, Citizen
from townhall.people.selectors import cases_proven_for

UPDATE_MAX = 2000
REASON_MAX = 500
# The open statuses a resident may withdraw from: all of them. This is the one move to
# CLOSED that skips RESOLVED (lifecycle.TRANSITIONS): nothing was resolved, the resident
# no longer needs it.
WITHDRAWABLE = OPEN_STATUSES


def case_owned_by_resident(*, case: Case, citizen: Citizen | None) -> bool:
    """Return whether `citizen` (signed in) is the proven owner of `case`'s report."""
    if citizen is None or case.reporter_id is None or case.reporter_id != citizen.pk:
        return False
    return case.pk in cases_proven_for(citizen=citizen, case_ids=[case.pk])


def _who(citizen: Citizen) -> str:
    return citizen.display_name or _("the resident")


def case_update_by_resident(
    *, case: Case, citizen: Citizen, text: str, channel: str = Channel.WEB
) -> CaseEvent:
    """Add the resident's update to their open case, for staff (as a message from the
    resident, like a reply by e-mail); a case waiting for the resident runs again.

    Raise InvalidCaseInput if the text is empty or too long or the case is finished.
    """
    text = text.strip()
    if not text:
        raise InvalidCaseInput(_("Enter your update."), details={"text": [_("Enter your update.")]})
    if len(text) > UPDATE_MAX:
        raise InvalidCaseInput(
            _("That is too long."),
            details={"text": [_("Your update must be 2,000 characters or fewer.")]},
        )
    if case.status not in OPEN_STATUSES:
        raise InvalidCaseInput(
            _("This request is finished."),
            details={"text": [_("This request is finished: you cannot add an update to it.")]},
        )
    with transaction.atomic():
        event = case_note_add(
            case=case,
            text=_("Message from %(who)s by %(channel)s:\n%(text)s")
            % {"who": _who(citizen), "channel": channel, "text": text},
            actor=None,
            channel=channel,
        )
        if case.status == CaseStatus.AWAITING_CITIZEN:
            # The resident answered what we asked: the clock runs again.
            case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=None, channel=channel)
    return event


def case_withdraw_by_resident(
    *,
    case: Case,
    citizen: Citizen,
    reason: str = "",
    channel: str = Channel.WEB,
    now: datetime | None = None,
) -> Case:
    """Close the resident's open case because they withdrew it. The public history says
    "Withdrawn by the resident."; staff also see the resident's reason (an internal note:
    it may be personal).

    Raise InvalidCaseInput if the reason is too long or the case is no longer open.
    """
    reason = reason.strip()
    if len(reason) > REASON_MAX:
        raise InvalidCaseInput(
            _("That is too long."),
            details={"reason": [_("Your reason must be 500 characters or fewer.")]},
        )
    at = now or clock.now()
    with transaction.atomic():
        with case_change(case.pk, at=at, actor=None, channel=channel, refresh=case) as change:
            source = CaseStatus(change.case.status)
            if source not in WITHDRAWABLE:
                raise InvalidCaseInput(
                    _("This request is finished."),
                    details={"reason": [_("This request is finished: it cannot be withdrawn.")]},
                )
            change.set(status=CaseStatus.CLOSED, closed_at=at)
            change.append(
                CaseEventKind.STATUS_CHANGED,
                {
                    "from": source.value,
                    "to": CaseStatus.CLOSED.value,
                    "note": _("Withdrawn by the resident."),
                    "withdrawn": True,
                },
                public=True,
            )
        case_note_add(
            case=case,
            text=_("Withdrawn by the resident (%(who)s).") % {"who": _who(citizen)}
            + (" " + _("Their reason: %(reason)s") % {"reason": reason} if reason else ""),
            actor=None,
            channel=channel,
            now=at,
        )
    return case
