"""How the public reaches a case: its private tracking link, and the summary staff approved
for publication in place of the resident's words."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.utils.translation import gettext as _

from townhall.cases.errors import InvalidCaseInput
from townhall.cases.models import Case, CaseEventKind
from townhall.cases.services.chain import Actor, case_change
from townhall.cases.services.opening import DESCRIPTION_MAX
from townhall.core import clock
from townhall.people.models import Channel


def case_link_rotate(
    *, case: Case, actor: Actor = None, channel: str = Channel.STAFF, now: datetime | None = None
) -> Case:
    """Replace the case's private tracking link: a new random key, so every link given
    before stops working at once. Recorded as an internal event (no key in it)."""
    at = now or clock.now()
    with case_change(case.pk, at=at, actor=actor, channel=channel) as change:
        change.set(track_key=secrets.token_hex(8))
        change.append(
            CaseEventKind.LINK_ROTATED,
            {"by": "staff" if channel == Channel.STAFF else "resident"},
        )
    return change.case


def case_public_summary_set(
    *, case: Case, summary: str, actor: Actor, now: datetime | None = None
) -> Case:
    """Set (or, with "", clear) the summary staff approved for publication in place of
    the resident's masked words. Raise InvalidCaseInput if it is too long."""
    summary = summary.strip()
    if len(summary) > DESCRIPTION_MAX:
        raise InvalidCaseInput(
            _("The summary could not be saved."),
            details={"summary": [_("Keep this under %(n)s characters.") % {"n": DESCRIPTION_MAX}]},
        )
    at = now or clock.now()
    with case_change(case.pk, at=at, actor=actor) as change:
        if change.case.public_summary != summary:
            change.set(public_summary=summary)
            change.append(CaseEventKind.SUMMARY_CHANGED, {"summary": summary})
    return change.case
