"""The photo's suggestion in a report dialogue (issue 20): "Looks like a dumped mattress.
Shall I report it as Fly-tipping?".

On the turn a photo arrives, `report_issue` runs as usual; if its photos' proposal names
another active service than the one chosen (or none is chosen yet), the question it was
about to ask waits and the resident is asked yes or no first. Yes files the report under
the proposed service (the old service's own answers are dropped, that service asks its
own); no keeps it. Anything else is read as "no" and taken as the answer to the question
that waited. Said as a guess ("looks like"), never as fact, in the conversation's language.
"""

from __future__ import annotations

import logging
from typing import Any

from townhall.assistant.dialogue_base import Ctx, Step, message
from townhall.assistant.dialogue_slots import fold, yes_no
from townhall.catalog.i18n import localized
from townhall.catalog.models import ServiceType
from townhall.catalog.selectors import service_type_get
from townhall.intake.photo_suggestions import photo_offer, photo_tags
from townhall.intake.staging import StagedPhotoGone, photo_unstage

log = logging.getLogger(__name__)

SKILL = "report_issue"
ASK = "photo_service"  # slots["_ask"] while the resident is asked about the photo's service


def _photo_bytes(tokens: Any) -> list[bytes]:
    contents = []
    for token in tokens:
        try:
            contents.append(photo_unstage(str(token)).content)
        except (StagedPhotoGone, OSError):
            log.info("assistant: a staged photo token was refused")
    return contents


def _question(ctx: Ctx, offer: dict[str, Any]) -> Step:
    text = ctx.say(SKILL, "photo_looks_like", label=offer["label"], service=offer["name"])
    quick = [ctx.say(SKILL, "photo_yes"), ctx.say(SKILL, "photo_no")]
    return Step([message(text, quick=quick)], done=False, data={"photo_offer": offer["code"]})


def photo_offer_step(ctx: Ctx, step: Step) -> Step:
    """`step` as the report flow took it, or the photo's suggestion asked first."""
    if not ctx.photos or step.done or step.outcome:
        return step
    slots = ctx.slots
    current = str(slots["service"]) if slots.get("service") else None
    offer = photo_offer(photo_tags(_photo_bytes(ctx.photos)), current=current)
    if offer is None:
        return step
    pending = {
        "code": offer.service.code,
        "name": str(localized(offer.service, "name", ctx.language)),
        "label": offer.proposal.label,
        "before": slots.get("_ask") or "",
    }
    slots["photo_offer"] = pending
    slots["_ask"] = ASK
    return _question(ctx, pending)


def photo_offer_answer(ctx: Ctx) -> Step | None:
    """Read the answer to the photo's suggestion; None when the report goes on."""
    slots = ctx.slots
    pending = slots.get("photo_offer")
    if not isinstance(pending, dict):
        slots.pop("_ask", None)
        return None
    if ctx.resume:  # back from a digression: ask again
        return _question(ctx, pending)
    slots.pop("photo_offer", None)
    before = str(pending.get("before") or "")
    if before:
        slots["_ask"] = before
    else:
        slots.pop("_ask", None)
    words = fold(ctx.text)
    said = yes_no(ctx.text)
    if words == fold(ctx.say(SKILL, "photo_yes")):
        said = True
    elif words == fold(ctx.say(SKILL, "photo_no")):
        said = False
    if said is None:  # not an answer to this: the answer to the question that waited
        return None
    if said and _still_taken(str(pending.get("code") or "")):
        if slots.get("service") != pending["code"]:
            slots["service"] = pending["code"]
            slots.pop("answers", None)  # the new service asks its own questions
        slots.pop("offered", None)
        if str(before).startswith("answer:") or before == "service":
            slots.pop("_ask", None)
    ctx.text = ""
    ctx.resume = True  # go on: ask what is still missing
    return None


def _still_taken(code: str) -> bool:
    try:
        return service_type_get(code=code).active
    except ServiceType.DoesNotExist:
        return False
