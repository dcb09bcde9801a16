"""The `report_issue` skill: the service, its own questions, the place, a description, a
photo, a contact, a summary to confirm, then `intake_submit` as the portal does.

Nothing is filed before the resident says yes to the summary; at the summary they may
correct a part by saying it again ("no, it's at 14 Elm Street") or choose what to change.
Contact details are passed to intake as the sender, exactly as the portal passes its
form's, and the assistant never links them to a citizen itself. As with the portal today,
an e-mail address a resident has proven, typed by someone else, files the report under
that resident (they get its updates and see it in their requests): a known gap of the
shared intake path, noted in issue 17's closing note.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson
from django.conf import settings
from django.utils.translation import gettext as _

from townhall.assistant import skill_report_photo as photo
from townhall.assistant.dialogue_base import Ctx, Step, message, page
from townhall.assistant.dialogue_slots import (
    address_match,
    choice_match,
    contact_in,
    fold,
    is_question,
    is_skip,
    place_get,
    yes_no,
)
from townhall.assistant.replies import Source
from townhall.assistant.skill_waste import address_step
from townhall.cases.photos import CleanPhoto
from townhall.catalog.attributes import AttributeSpec
from townhall.catalog.i18n import localized
from townhall.catalog.models import ServiceType
from townhall.catalog.selectors import attribute_specs_for, service_type_get
from townhall.core import clock
from townhall.core.dates import long_date
from townhall.core.errors import ValidationFailed
from townhall.intake.messages import Dedupe, IncomingMessage, Location, Sender
from townhall.intake.selectors_finder import service_find
from townhall.intake.services import intake_submit
from townhall.intake.staging import photo_unstage
from townhall.people.selectors import citizen_verified_email
from townhall.places.models import Place
from townhall.waste.selectors import (
    collection_missed_report_allowed,
    collection_next,
    stream_names,
    waste_config_get,
    waste_timezone,
)

log = logging.getLogger(__name__)

SKILL = "report_issue"
OFFERED = 4
# Services about information, not a place, do not ask where (as the portal).
NO_LOCATION_GROUPS = frozenset({"general"})
LIST_TYPES = frozenset({"singlevaluelist", "multivaluelist"})


def photos_unstage(tokens: Sequence[str]) -> list[CleanPhoto]:
    """The staged photos the tokens name (already checked, EXIF gone); bad tokens skipped."""
    photos = []
    for token in tokens:
        try:
            photos.append(photo_unstage(token))
        except Exception:  # expired, forged or already used: the resident adds it again
            log.info("assistant: a staged photo token was refused")
    return photos


def _service(slots: dict[str, Any]) -> ServiceType | None:
    if not slots.get("service"):
        return None
    try:
        service = service_type_get(code=str(slots["service"]))
    except ServiceType.DoesNotExist:
        return None
    return service if service.active else None


def _name(service: ServiceType, language: str) -> str:
    return str(localized(service, "name", language))


def _ask(ctx: Ctx, slot: str, text: str, quick: Sequence[str] = (), **data: Any) -> Step:
    ctx.slots["_ask"] = slot
    return Step([message(text, quick=quick)], done=False, data=data)


def _service_entity(ctx: Ctx) -> list[str]:
    """The service the understanding module found in the words, if it is one we take."""
    entity = ctx.understanding.entities.get("service") if ctx.understanding else None
    if isinstance(entity, dict):
        entity = entity.get("code")
    if not entity or not ctx.fresh:
        return []
    return [str(entity)] if _service({"service": str(entity)}) is not None else []


def _service_step(ctx: Ctx) -> Step | None:
    slots = ctx.slots
    offered = slots.get("offered") or []
    if offered:
        names = []
        for code in offered:
            try:
                names.append((code, _name(service_type_get(code=code), ctx.language)))
            except ServiceType.DoesNotExist:
                continue
        chosen = choice_match(ctx.text, names)
        if chosen:
            slots["service"] = chosen
            slots.pop("offered", None)
            ctx.text = ""
            return None
    codes = _service_entity(ctx)
    general = ""
    if not codes and ctx.text and not ctx.resume:
        found = service_find(query=ctx.text, language=ctx.language, limit=OFFERED)
        codes = [s.code for s in found.services if s.active]
        scores = found.scores
        if len(codes) > 1 and scores.get(codes[0], 0) - scores.get(codes[1], 0) >= 0.15:
            codes = codes[:1]
        if not codes and found.ask is not None and slots.get("_ask") == "service":
            general = found.ask.code  # the general enquiry, when nothing fits twice
    if len(codes) == 1:
        slots["service"] = codes[0]
        slots.pop("offered", None)
        return None
    if codes:
        slots["offered"] = codes
        labels = [_name(service_type_get(code=c), ctx.language) for c in codes]
        return _ask(ctx, "service", ctx.say(SKILL, "which_service"), labels)
    if slots.get("_ask") == "service" and not ctx.resume:
        if general:
            slots["offered"] = [general]
            name = _name(service_type_get(code=general), ctx.language)
            return _ask(ctx, "service", ctx.say(SKILL, "unknown_service"), [name])
        return _ask(ctx, "service", ctx.say(SKILL, "unknown_service"))
    return _ask(ctx, "service", ctx.say(SKILL, "ask_service"))


def _spec_options(spec: AttributeSpec) -> list[tuple[str, str]]:
    return list(zip(spec.values, spec.value_names or spec.values, strict=False))


def _answers_step(ctx: Ctx, service: ServiceType) -> Step | None:
    slots = ctx.slots
    answers: dict[str, Any] = slots.setdefault("answers", {})
    specs = [s.in_language(ctx.language) for s in attribute_specs_for(service_type=service)]
    pending = [s for s in specs if s.required and s.variable and s.code not in answers]
    if not pending:
        return None
    spec = pending[0]
    retry = False
    if slots.get("_ask") == f"answer:{spec.code}" and not ctx.resume:
        if spec.datatype in LIST_TYPES:
            value = choice_match(ctx.text, _spec_options(spec))
            if value is not None:
                answers[spec.code] = [value] if spec.datatype == "multivaluelist" else value
        elif ctx.text.strip():
            answers[spec.code] = ctx.text.strip()[:500]
        if spec.code in answers:
            ctx.text = ""
            return _answers_step(ctx, service)
        retry = True
    text = spec.description or spec.code
    if retry:
        text = f"{ctx.say(SKILL, 'bad_answer')} {text}"
    quick = [name for _value, name in _spec_options(spec)] if spec.datatype in LIST_TYPES else []
    return _ask(ctx, f"answer:{spec.code}", text, quick)


def _photo_point(ctx: Ctx) -> bool:
    return any(p.lat is not None for p in photos_unstage(ctx.slots.get("photos", [])))


def _place_step(ctx: Ctx, service: ServiceType) -> Step | None:
    slots = ctx.slots
    if service.group.code in NO_LOCATION_GROUPS or slots.get("place_photo"):
        return None
    chose_photo = fold(ctx.text) == fold(ctx.say(SKILL, "use_photo"))
    if slots.get("_ask") == "address" and chose_photo and _photo_point(ctx):
        slots["place_photo"] = True
        slots.pop("_ask", None)
        return None
    found = address_step(ctx, SKILL, use_memory=False)
    if isinstance(found, Step):
        if _photo_point(ctx):
            found.messages[-1] = message(
                found.messages[-1].text, quick=[ctx.say(SKILL, "use_photo")]
            )
        return found
    return _missed_bin_refusal(ctx, service, found)


def _missed_bin_refusal(ctx: Ctx, service: ServiceType, place: Place) -> Step | None:
    """A missed bin may be reported only once the crews are done on a day it was due at
    the address (the waste rule the portal applies at its address step): else say why,
    with the next collection, before the resident types the rest."""
    stream = settings.TOWNHALL_MISSED_COLLECTION_SERVICES.get(service.code)
    if not stream:
        return None
    now = clock.now()
    check = collection_missed_report_allowed(place=place, stream=stream, now=now)
    if check.allowed:
        return None
    today = now.astimezone(waste_timezone(waste_config_get())).date()
    upcoming = collection_next(place=place, today=today, limit=60)
    next_day = next((c.day for c in upcoming if stream in c.streams), None)
    lines = [ctx.say(SKILL, "missed_too_early"), str(check.reason)]
    if next_day is not None:
        named = stream_names().get(stream)
        lines.append(
            ctx.say(
                SKILL,
                "missed_next",
                stream=named.name if named else stream,
                date=long_date(next_day),
            )
        )
    ctx.slots.clear()
    bins = Source(title=place.address, url=page("bins-address", place.pk))
    return Step([message(" ".join(lines), sources=[bins])], data={"refused": "missed_bin"})


def _contact_step(ctx: Ctx) -> Step | None:
    slots = ctx.slots
    if "contact" in slots:
        return None
    if ctx.citizen_id is not None and not slots.get("contact_asked"):
        # Signed in: their proven address, so the report is theirs ("your requests");
        # the summary shows it and it can be changed.
        email = citizen_verified_email(citizen_id=ctx.citizen_id)
        if email:
            slots["contact"] = ["email", email]
            return None
    if slots.get("_ask") == "contact" and not ctx.resume:
        found = contact_in(ctx.text)
        if found:
            slots["contact"] = list(found)
            return None
        if is_skip(ctx.text) or fold(ctx.text) == fold(ctx.say(SKILL, "skip")):
            slots["contact"] = []
            return None
        return _ask(ctx, "contact", ctx.say(SKILL, "bad_contact"), [ctx.say(SKILL, "skip")])
    return _ask(ctx, "contact", ctx.say(SKILL, "ask_contact"), [ctx.say(SKILL, "skip")])


def _parts(ctx: Ctx) -> list[tuple[str, str]]:
    return [
        ("place", _("Place")),
        ("description", _("Description")),
        ("photos", _("Photo")),
        ("contact", _("Contact details")),
    ]


def _summary(ctx: Ctx, service: ServiceType) -> Step:
    slots = ctx.slots
    problem = _("Problem")
    lines = [ctx.say(SKILL, "summary"), f"• {problem}: {_name(service, ctx.language)}"]
    specs = {s.code: s.in_language(ctx.language) for s in attribute_specs_for(service_type=service)}
    for code, value in slots.get("answers", {}).items():
        spec = specs.get(code)
        if spec is None:
            continue
        names = dict(_spec_options(spec))
        shown = (
            ", ".join(names.get(str(v), str(v)) for v in value)
            if isinstance(value, list)
            else value
        )
        lines.append(f"• {spec.description or code}: {names.get(str(shown), shown)}")
    if slots.get("place_photo"):
        lines.append(f"• {_('Place')}: {ctx.say(SKILL, 'use_photo')}")
    elif slots.get("place"):
        place = place_get(str(slots["place"]))
        if place is not None:
            lines.append(f"• {_('Place')}: {place.address}")
    lines.append(f"• {_('Description')}: {slots.get('description', '')}")
    if slots.get("photos"):
        lines.append(f"• {_('Photo')}: {len(slots['photos'])}")
    if slots.get("contact"):
        lines.append(f"• {_('Contact details')}: {slots['contact'][1]}")
    lines.append(ctx.say(SKILL, "confirm"))
    quick = [ctx.say(SKILL, "send"), ctx.say(SKILL, "change"), ctx.say(SKILL, "cancel")]
    return _ask(ctx, "confirm", "\n".join(lines), quick)


def _confirm_answer(ctx: Ctx, service: ServiceType) -> Step | None:
    """Read the answer to the summary: send, change a part, or a correction said outright.
    None when the summary should be shown again (or the part asked again)."""
    slots = ctx.slots
    text = ctx.text
    if fold(text) == fold(ctx.say(SKILL, "change")):
        return _ask(
            ctx, "change", ctx.say(SKILL, "what_change"), [label for _k, label in _parts(ctx)]
        )
    said = yes_no(text)
    if said is True or fold(text) == fold(ctx.say(SKILL, "send")):
        return _file(ctx, service)
    found = contact_in(text)
    if found:
        slots["contact"] = list(found)
        return None
    place = address_match(text).place
    if place is not None:
        slots["place"] = place.property_id
        ctx.memory["place"] = place.property_id
        slots.pop("place_photo", None)
        return None
    if said is False:
        return _ask(
            ctx, "change", ctx.say(SKILL, "what_change"), [label for _k, label in _parts(ctx)]
        )
    return None


def _change(ctx: Ctx) -> None:
    """Forget the part the resident wants to change, so it is asked again."""
    part = choice_match(ctx.text, _parts(ctx))
    if part == "place":
        ctx.slots.pop("place", None)
        ctx.slots.pop("place_photo", None)
        ctx.memory.pop("place", None)
    elif part == "contact":
        ctx.slots.pop("contact", None)
        ctx.slots["contact_asked"] = True
    elif part == "photos":
        ctx.slots.pop("photos", None)
        ctx.slots.pop("photo_done", None)
    elif part:
        ctx.slots.pop(part, None)
    ctx.slots.pop("_ask", None)
    ctx.text = ""


def report_issue(ctx: Ctx) -> Step:
    """The report flow, with a photo's suggestion of another service asked first."""
    if ctx.slots.get("_ask") == photo.ASK:
        asked = photo.photo_offer_answer(ctx)
        if asked is not None:
            return asked
    return photo.photo_offer_step(ctx, _report_flow(ctx))


def _report_flow(ctx: Ctx) -> Step:
    slots = ctx.slots
    if ctx.photos:
        slots.setdefault("photos", []).extend(ctx.photos)
    if ctx.fresh:  # "a pothole outside 12 Elm Street": the place is said already
        said = address_match(ctx.text).place
        if said is not None:
            slots["place"] = said.property_id
            ctx.memory["place"] = said.property_id
    asked = str(slots.get("_ask") or "")
    if asked == "change" and not ctx.resume:
        _change(ctx)
    if asked == "confirm" and not ctx.resume:
        service = _service(slots)
        if service is not None:
            answered = _confirm_answer(ctx, service)
            if answered is not None:
                return answered
            ctx.text = ""
    step = _service_step(ctx) if _service(slots) is None else None
    if step is not None:
        return step
    service = _service(slots)
    assert service is not None
    for part in (_answers_step, _place_step):
        step = part(ctx, service)
        if step is not None:
            return step
    if not slots.get("description"):
        if slots.get("_ask") == "description" and ctx.text.strip() and not ctx.resume:
            slots["description"] = ctx.text.strip()[:2000]
        else:
            return _ask(ctx, "description", ctx.say(SKILL, "ask_description"))
    if ctx.conversation.channel == "phone":  # a caller cannot send a photo
        slots["photo_done"] = True
    if not slots.get("photos") and not slots.get("photo_done"):
        if slots.get("_ask") == "photo" and not ctx.resume:
            slots["photo_done"] = True  # "no photo", or anything else: go on without one
        else:
            return _ask(ctx, "photo", ctx.say(SKILL, "ask_photo"), [ctx.say(SKILL, "no_photo")])
    step = _contact_step(ctx)
    if step is not None:
        return step
    return _summary(ctx, service)


def expects(slots: dict[str, Any], text: str) -> bool:
    """Whether `text` answers what the report asked (else it may be a digression)."""
    asked = str(slots.get("_ask") or "")
    if asked == photo.ASK:  # yes/no, or the answer to the question that waited
        return yes_no(text) is not None or not is_question(text)
    if asked in {"description", "contact", "photo"} or asked.startswith("answer:"):
        return not is_question(text)
    if asked == "address":
        return address_match(text, asked=True).place is not None
    if asked == "confirm":
        return yes_no(text) is not None or contact_in(text) is not None
    return asked in {"service", "change"} and not is_question(text)


def _file(ctx: Ctx, service: ServiceType) -> Step:
    slots = ctx.slots
    location = Location()
    place = place_get(str(slots["place"])) if slots.get("place") else None
    if place is not None:
        location = Location(place.lat, place.long, place.address, place.property_id)
    email = phone = ""
    contact = slots.get("contact") or []
    if contact:
        email, phone = (contact[1], "") if contact[0] == "email" else ("", contact[1])
    photos = photos_unstage(slots.get("photos", []))
    description = str(slots.get("description", ""))
    answers = dict(slots.get("answers", {}))
    raw = orjson.dumps(
        {
            "service": service.code,
            "description": description,
            "answers": answers,
            "address": location.address,
            "address_id": location.address_id,
            "photos": len(photos),
            "email": email,
            "phone": phone,
            "conversation": ctx.conversation.pk,
        },
        default=str,
    ).decode()
    try:
        result = intake_submit(
            IncomingMessage(
                # people.Channel.PHONE for a call (services_voice), else ASSISTANT.
                channel="phone" if ctx.conversation.channel == "phone" else "assistant",
                sender=Sender(email=email, phone=phone, language=ctx.language),
                text=description,
                photos=tuple(photos),
                place=location,
                service=service,
                answers=answers,
                dedupe=Dedupe.SUGGEST,
                source="assistant",
                raw=raw,
            )
        )
    except ValidationFailed as exc:
        problems = [m for ms in (exc.details or {}).values() for m in ms] or [str(exc)]
        text = ctx.say(SKILL, "refused", reason=" ".join(str(p) for p in problems))
        slots.clear()
        return Step([message(text)], data={"refused": True})
    case = result.case
    if case is None:  # a repeat of a report just made: intake answered it
        slots.clear()
        return Step([message(result.reply or ctx.say(SKILL, "refused", reason=""))])
    ctx.conversation.case = case
    lines = [ctx.say(SKILL, "filed", reference=case.reference)]
    if case.expected_on:
        lines.append(ctx.say(SKILL, "promise", date=long_date(case.expected_on)))
    sources = []
    if not service.personal:
        sources.append(
            Source(title=case.reference, url=page("track") + f"?reference={case.reference}")
        )
    slots.clear()
    return Step(
        [message(" ".join(lines), sources=sources, reference=case.reference)],
        outcome="filed",
        data={"reference": case.reference},
    )
