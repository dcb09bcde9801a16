"""The `case_status` skill: a request's status by its reference, showing only what the
public tracking page shows (service, status, the promised date); a signed-in resident may
list their own requests instead.

A reference proves nothing about who asks, so a personal service's case (about someone's
home) is not shown by reference, as on the tracking page, unless it is the signed-in
resident's own.
"""

from __future__ import annotations

from typing import Any

from django.utils.http import urlencode

from townhall.assistant.dialogue_base import Ctx, Step, message, page
from townhall.assistant.dialogue_slots import reference_in
from townhall.assistant.replies import Source
from townhall.cases.errors import CaseNotFound
from townhall.cases.lifecycle import OPEN_STATUSES, CaseStatus
from townhall.cases.selectors import case_list_for_citizen, case_public_get
from townhall.catalog.i18n import localized
from townhall.core.dates import long_date
from townhall.people.selectors import cases_proven_for, citizen_get

LISTED = 5


def _track(reference: str) -> str:
    return page("track") + "?" + urlencode({"reference": reference})


def _line(ctx: Ctx, case: Any) -> str:
    text = ctx.say(
        "case_status",
        "status",
        reference=case.reference,
        service=localized(case.service_type, "name", ctx.language),
        status=CaseStatus(case.status).label,
    )
    if case.status in OPEN_STATUSES and case.expected_on:
        text += " " + ctx.say("case_status", "expected", date=long_date(case.expected_on))
    return text


def _own(ctx: Ctx) -> list[Any]:
    if ctx.citizen_id is None:
        return []
    citizen = citizen_get(citizen_id=ctx.citizen_id)
    if citizen is None:
        return []
    listed = case_list_for_citizen(citizen_id=citizen.pk)
    # The account page's rule: a report is theirs to see only if it came through a contact
    # they have proven (a contact typed into someone else's report proves nothing).
    proven = cases_proven_for(
        citizen=citizen, case_ids=[case.pk for case, reported in listed if reported]
    )
    return [case for case, reported in listed if not reported or case.pk in proven]


def case_status(ctx: Ctx) -> Step:
    slots = ctx.slots
    if ctx.resume:
        return Step([message(ctx.say("case_status", "ask_reference"))], done=False)
    entity = ctx.understanding.entities.get("reference") if ctx.understanding else None
    reference = reference_in(str(entity)) if entity else None
    reference = reference or reference_in(ctx.text)
    if reference is None:
        if ctx.fresh and ctx.citizen_id is not None:
            return _list_own(ctx)
        if slots.get("_ask") == "reference":
            text = ctx.say("case_status", "bad_reference", text=ctx.text[:40])
            return Step([message(text)], done=False, data={"bad_reference": True})
        slots["_ask"] = "reference"
        return Step([message(ctx.say("case_status", "ask_reference"))], done=False)
    own = {case.reference: case for case in _own(ctx)}
    case = own.get(reference)
    if case is None:
        try:
            case = case_public_get(reference=reference)
        except CaseNotFound:
            slots["_ask"] = "reference"
            text = ctx.say("case_status", "not_found", reference=reference)
            return Step([message(text)], done=False, data={"bad_reference": True})
    source = Source(
        title=ctx.say("case_status", "track", reference=case.reference), url=_track(case.reference)
    )
    return Step(
        [message(_line(ctx, case), sources=[source], reference=case.reference)],
        outcome="contained",
        data={"reference": case.reference},
    )


def _list_own(ctx: Ctx) -> Step:
    cases = _own(ctx)[:LISTED]
    if not cases:
        return Step([message(ctx.say("case_status", "none_yours"))], outcome="contained")
    lines = [ctx.say("case_status", "yours"), *(f"• {_line(ctx, c)}" for c in cases)]
    return Step(
        [
            message(
                "\n".join(lines),
                sources=[Source(title=lines[0].rstrip(":"), url=page("account"))],
            )
        ],
        outcome="contained",
    )
