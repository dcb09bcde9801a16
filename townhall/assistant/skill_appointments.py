"""The `appointment` skill: book, move or cancel an appointment from the chat, for one of
the resident's own requests whose service needs a meeting (issue 21).

Who may act is the portal's rule: the signed-in resident (web chat) or the resident texting
from a phone number they proved (SMS, voice) — `ctx.citizen_id` — and only for requests
they are the proven owner of (`cases.resident.case_owned_by_resident`) and appointments
booked by them (`appointments.selectors.appointment_for_citizen`). An anonymous chat is
asked to sign in; nothing is ever looked up by a reference or an id the resident types, so
guessing one shows nothing. The resident chooses among what the assistant listed for them
(kept in the skill's slots and checked again on the turn that acts).

Writes go through the appointments services (`appointment_book`, `appointment_move`,
`appointment_cancel`): the race-safe seat, the case note and the confirmation with its
calendar entry in the notify outbox come with them. A time taken meanwhile is answered with
the times still free. Each write counts against the portal's `appointment` limit for the
resident. Replies are plain text with numbered choices, so SMS and voice read them too.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from townhall.appointments.selectors import (
    appointment_for_citizen,
    appointment_is_live,
    appointments_for_citizen,
    live_appointment_for_case,
    meeting_for_case,
    slots_offered,
)
from townhall.appointments.services import (
    AlreadyBooked,
    SlotUnavailable,
    appointment_book,
    appointment_cancel,
    appointment_move,
)
from townhall.appointments.slots import office_calendar
from townhall.assistant.dialogue_base import Ctx, Step, message, page
from townhall.assistant.dialogue_slots import choice_match, fold, yes_no
from townhall.assistant.replies import Source
from townhall.cases.lifecycle import OPEN_STATUSES
from townhall.cases.resident import case_owned_by_resident
from townhall.cases.selectors import case_list_for_citizen
from townhall.catalog.i18n import localized
from townhall.core import clock
from townhall.core.dates import long_date
from townhall.core.errors import DomainError, NotFound
from townhall.core.ratelimit import RateLimited, rate_limit_hit
from townhall.people.models import Citizen
from townhall.people.selectors import citizen_get

SKILL = "appointment"
OFFERED = 5  # times offered at once: a few, readable in one text message
CHOICES = 6  # requests or appointments listed to choose from

_MOVE = re.compile(
    r"\b(move|moving|reschedul\w*|re-schedul\w*|change|changing|another (time|day)|"
    r"different (time|day)|postpone|can ?not make|can'?t make|cambiar|mover|aplazar|"
    r"otro dia|otra hora|no puedo ir)\b"
)
_CANCEL = re.compile(
    r"\b(cancel\w*|call off|don'?t need|do not need|no longer need|anular|ya no necesito)\b"
)
_LIST = re.compile(
    r"\b(when is my|what appointments|which appointments|my appointments|cuando es mi|"
    r"que citas|mis citas)\b"
)


def _action(text: str) -> str:
    words = fold(text)
    if _CANCEL.search(words):
        return "cancel"
    if _MOVE.search(words):
        return "move"
    if _LIST.search(words):
        return "list"
    return "book"


def when_text(starts_at: dt.datetime, office: Any) -> str:
    """'Tuesday 8 December 2026, 9:15 a.m. EST': the office's local time, its zone named."""
    local = starts_at.astimezone(office_calendar(office).tz)
    return f"{long_date(local.date())}, {date_format(local, 'TIME_FORMAT')} {local:%Z}".strip()


def _slot_words(slot: Any) -> tuple[str, str, str]:
    return when_text(slot.starts_at, slot.office), str(slot.get_mode_display()), slot.office.name


def _service(case: Any, language: str) -> str:
    return str(localized(case.service_type, "name", language))


def _citizen(ctx: Ctx) -> Citizen | None:
    return citizen_get(citizen_id=ctx.citizen_id) if ctx.citizen_id is not None else None


def _ask(ctx: Ctx, name: str, text: str, quick: list[tuple[str, str]] | None = None) -> Step:
    """Ask for slot `name`; remembered so a digression's return can ask it again."""
    ctx.slots["_ask"] = name
    ctx.slots["_question"] = {"text": text, "quick": [list(q) for q in quick or []]}
    return Step([message(text, quick=quick or [])], done=False)


def _again(ctx: Ctx, text: str | None = None) -> Step:
    """The pending question again (or `text`), with the choices it offered."""
    asked = ctx.slots.get("_question") or {}
    quick = [(str(q[0]), str(q[1])) for q in asked.get("quick") or []]
    return Step([message(text or str(asked.get("text") or ""), quick=quick)], done=False)


def _done(text: str, *, sources: list[Source] | None = None, **data: Any) -> Step:
    return Step([message(text, sources=sources or [])], outcome="contained", data=data)


def _hit(ctx: Ctx, citizen: Citizen) -> Step | None:
    """Count a booking, move or cancellation against the portal's `appointment` limit."""
    try:
        rate_limit_hit(None, SKILL, targets=[f"citizen:{citizen.pk}"])
    except RateLimited:
        return _done(ctx.say(SKILL, "too_many"), rate_limited=True)
    return None


# --- the turn ---------------------------------------------------------------------------


def appointment(ctx: Ctx) -> Step:
    slots = ctx.slots
    if ctx.resume and slots.get("_question"):
        return _again(ctx)
    citizen = _citizen(ctx)
    if citizen is None:
        sources = [Source(ctx.say(SKILL, "sign_in_link"), page("sign-in"))]
        return _done(ctx.say(SKILL, "sign_in"), sources=sources, signed_in=False)
    pending = slots.get("_ask")
    if pending == "case":
        return _case_chosen(ctx, citizen)
    if pending == "slot":
        return _slot_chosen(ctx, citizen)
    if pending == "appointment":
        return _appointment_chosen(ctx, citizen)
    if pending == "confirm":
        return _cancel_confirmed(ctx, citizen)
    action = slots["action"] = _action(ctx.text)
    if action == "book":
        return _book_start(ctx, citizen)
    return _own_start(ctx, citizen, action)


# --- booking ----------------------------------------------------------------------------


def _bookable(citizen: Citizen) -> list[Any]:
    """The resident's open requests they provably own whose service needs a meeting."""
    found = []
    for case, reported in case_list_for_citizen(citizen_id=citizen.pk):
        if not reported or case.status not in OPEN_STATUSES or meeting_for_case(case) is None:
            continue
        if case_owned_by_resident(case=case, citizen=citizen):
            found.append(case)
    return found


def _named(cases: list[Any], text: str, language: str) -> list[Any]:
    """The requests whose service the words name ("about my housing benefit")."""
    words = {w.rstrip("s") for w in fold(text).split() if len(w) > 3}
    named = []
    for case in cases:
        service = {w.rstrip("s") for w in fold(_service(case, language)).split() if len(w) > 3}
        if words & service or case.reference.lower() in fold(text):
            named.append(case)
    return named


def _book_start(ctx: Ctx, citizen: Citizen) -> Step:
    cases = _bookable(citizen)
    named = _named(cases, ctx.text, ctx.language)
    cases = named or cases
    free = [c for c in cases if live_appointment_for_case(c) is None]
    if not free:
        if cases:  # every one already has an appointment: say so, offer to move it
            case = cases[0]
            live = live_appointment_for_case(case)
            assert live is not None
            text = ctx.say(
                SKILL,
                "already",
                reference=case.reference,
                when=when_text(live.slot.starts_at, live.slot.office),
            )
            return _done(text, sources=[Source(ctx.say(SKILL, "mine"), page("appointments"))])
        return _done(
            ctx.say(SKILL, "no_request"),
            sources=[Source(ctx.say(SKILL, "mine"), page("services"))],
            bookable=0,
        )
    if len(free) == 1:
        return _offer(ctx, free[0])
    return _choose_case(ctx, free[:CHOICES])


def _choose_case(ctx: Ctx, cases: list[Any]) -> Step:
    ctx.slots["cases"] = [c.pk for c in cases]
    lines = [ctx.say(SKILL, "which_case")]
    quick = []
    for n, case in enumerate(cases, start=1):
        label = f"{_service(case, ctx.language)} ({case.reference})"
        lines.append(f"{n}. {label}")
        quick.append((label, str(n)))
    return _ask(ctx, "case", "\n".join(lines), quick)


def _case_chosen(ctx: Ctx, citizen: Citizen) -> Step:
    cases = {c.pk: c for c in _bookable(citizen)}
    listed = [cases[pk] for pk in ctx.slots.get("cases", []) if pk in cases]
    options = [(str(c.pk), f"{_service(c, ctx.language)} ({c.reference})") for c in listed]
    options += [(str(c.pk), c.reference) for c in listed]
    chosen = choice_match(ctx.text, options[: len(listed)]) or choice_match(ctx.text, options)
    if chosen is None or not listed:
        if not listed:
            return _book_start(ctx, citizen)
        return _choose_case(ctx, listed)
    return _offer(ctx, cases[int(chosen)])


def _offer(ctx: Ctx, case: Any, *, lead: str = "") -> Step:
    """The next free times for the request, numbered."""
    meeting = meeting_for_case(case)
    if meeting is None:
        return _done(ctx.say(SKILL, "no_request"))
    offered = slots_offered(meeting=meeting, now=clock.now())[:OFFERED]
    service = _service(case, ctx.language)
    if not offered:
        return _done(ctx.say(SKILL, "no_times", service=service), bookable=1, times=0)
    ctx.slots.update(case=case.pk, offered=[s.pk for s in offered])
    head = ctx.say(SKILL, "offer", service=service, reference=case.reference)
    return _times(ctx, offered, head, lead)


def _times(ctx: Ctx, offered: list[Any], head: str, lead: str) -> Step:
    lines = [lead] if lead else []
    lines.append(head)
    quick = []
    for n, slot in enumerate(offered, start=1):
        when, mode, office = _slot_words(slot)
        lines.append(f"{n}. {when} ({mode}, {office})")
        quick.append((when, str(n)))
    lines.append(ctx.say(SKILL, "choose"))
    return _ask(ctx, "slot", "\n".join(lines), quick)


def _slot_chosen(ctx: Ctx, citizen: Citizen) -> Step:
    offered = [int(pk) for pk in ctx.slots.get("offered", [])]
    # By number, or by the time as offered (the quick reply's label).
    quick = (ctx.slots.get("_question") or {}).get("quick") or []
    options = [(str(pk), str(q[0])) for pk, q in zip(offered, quick, strict=False)]
    chosen = choice_match(ctx.text, options)
    if chosen is None:
        return _again(ctx, ctx.say(SKILL, "choose"))
    limited = _hit(ctx, citizen)
    if limited is not None:
        return limited
    if ctx.slots.get("action") == "move":
        return _move(ctx, citizen, chosen)
    return _book(ctx, citizen, chosen)


def _book(ctx: Ctx, citizen: Citizen, slot_id: str) -> Step:
    cases = {c.pk: c for c in _bookable(citizen)}
    case = cases.get(int(ctx.slots.get("case") or 0))
    if case is None:  # no longer theirs, or closed meanwhile
        return _done(ctx.say(SKILL, "cannot_change"))
    try:
        booked = appointment_book(
            case=case, citizen=citizen, slot_id=slot_id, now=clock.now(), language=ctx.language
        )
    except AlreadyBooked:
        live = live_appointment_for_case(case)
        when = when_text(live.slot.starts_at, live.slot.office) if live else ""
        return _done(ctx.say(SKILL, "already", reference=case.reference, when=when))
    except SlotUnavailable as exc:
        return _offer(ctx, case, lead=_why(ctx, exc))
    except DomainError:
        return _done(ctx.say(SKILL, "cannot_change"))
    when, mode, office = _slot_words(booked.slot)
    source = Source(ctx.say(SKILL, "manage"), page("appointment", booked.public_id))
    text = ctx.say(SKILL, "booked", when=when, mode=mode, office=office)
    return _done(text, sources=[source], appointment="booked")


def _why(ctx: Ctx, exc: SlotUnavailable) -> str:
    return ctx.say(SKILL, "too_soon" if exc.reason == "past" else "taken")


# --- the resident's own appointments: list, move, cancel ---------------------------------


def _own_start(ctx: Ctx, citizen: Citizen, action: str) -> Step:
    mine = appointments_for_citizen(citizen)[:CHOICES]
    listing = Source(ctx.say(SKILL, "mine"), page("appointments"))
    if not mine:
        return _done(ctx.say(SKILL, "none_booked"), sources=[listing], appointments=0)
    if action == "list":
        lines = [ctx.say(SKILL, "mine") + ":"]
        for appt in mine:
            when, mode, office = _slot_words(appt.slot)
            service = _service(appt.case, ctx.language)
            lines.append(f"• {when}: {service} ({appt.case.reference}), {mode}, {office}")
        return _done("\n".join(lines), sources=[listing], appointments=len(mine))
    if len(mine) == 1:
        return _act_on(ctx, citizen, mine[0])
    ctx.slots["appointments"] = [a.public_id.hex for a in mine]
    lines = [ctx.say(SKILL, "which_appointment")]
    quick = []
    for n, appt in enumerate(mine, start=1):
        when = when_text(appt.slot.starts_at, appt.slot.office)
        lines.append(f"{n}. {when} ({_service(appt.case, ctx.language)})")
        quick.append((when, str(n)))
    return _ask(ctx, "appointment", "\n".join(lines), quick)


def _mine(ctx: Ctx, citizen: Citizen, public_id: object) -> Any:
    """The appointment, only if it is this resident's and still booked."""
    found = appointment_for_citizen(public_id=public_id, citizen=citizen)
    return found if found is not None and appointment_is_live(found) else None


def _appointment_chosen(ctx: Ctx, citizen: Citizen) -> Step:
    listed = [str(x) for x in ctx.slots.get("appointments", [])]
    quick = (ctx.slots.get("_question") or {}).get("quick") or []
    options = [(pid, str(q[0])) for pid, q in zip(listed, quick, strict=False)]
    chosen = choice_match(ctx.text, options)
    appt = _mine(ctx, citizen, chosen) if chosen else None
    if appt is None:
        return _again(ctx, ctx.say(SKILL, "which_appointment"))
    return _act_on(ctx, citizen, appt)


def _act_on(ctx: Ctx, citizen: Citizen, appt: Any) -> Step:
    ctx.slots["appointment"] = appt.public_id.hex
    when = when_text(appt.slot.starts_at, appt.slot.office)
    if ctx.slots.get("action") == "cancel":
        text = ctx.say(
            SKILL, "confirm_cancel", when=when, service=_service(appt.case, ctx.language)
        )
        return _ask(ctx, "confirm", text, [(_("Yes"), "yes"), (_("No"), "no")])
    return _offer_move(ctx, appt)


def _offer_move(ctx: Ctx, appt: Any, *, lead: str = "") -> Step:
    offered = slots_offered(meeting=appt.slot.service, now=clock.now(), exclude=appt.slot_id)
    offered = offered[:OFFERED]
    if not offered:
        service = _service(appt.case, ctx.language)
        return _done(ctx.say(SKILL, "no_times", service=service), times=0)
    ctx.slots["offered"] = [s.pk for s in offered]
    when = when_text(appt.slot.starts_at, appt.slot.office)
    return _times(ctx, offered, ctx.say(SKILL, "offer_move", when=when), lead)


def _move(ctx: Ctx, citizen: Citizen, slot_id: str) -> Step:
    appt = _mine(ctx, citizen, ctx.slots.get("appointment"))
    if appt is None:
        return _done(ctx.say(SKILL, "cannot_change"))
    try:
        moved = appointment_move(appointment=appt, slot_id=slot_id, now=clock.now())
    except SlotUnavailable as exc:
        if exc.reason == "unknown":
            return _done(ctx.say(SKILL, "cannot_change"))
        return _offer_move(ctx, appt, lead=_why(ctx, exc))
    except (NotFound, DomainError):
        return _done(ctx.say(SKILL, "cannot_change"))
    when, mode, office = _slot_words(moved.slot)
    source = Source(ctx.say(SKILL, "manage"), page("appointment", moved.public_id))
    text = ctx.say(SKILL, "moved", when=when, mode=mode, office=office)
    return _done(text, sources=[source], appointment="moved")


def _cancel_confirmed(ctx: Ctx, citizen: Citizen) -> Step:
    answer = yes_no(ctx.text)
    appt = _mine(ctx, citizen, ctx.slots.get("appointment"))
    if appt is None:
        return _done(ctx.say(SKILL, "cannot_change"))
    when = when_text(appt.slot.starts_at, appt.slot.office)
    if answer is None:
        return _again(ctx)
    if answer is False:
        return _done(ctx.say(SKILL, "kept", when=when), appointment="kept")
    limited = _hit(ctx, citizen)
    if limited is not None:
        return limited
    try:
        appointment_cancel(appointment=appt, now=clock.now())
    except DomainError:
        return _done(ctx.say(SKILL, "cannot_change"))
    text = ctx.say(SKILL, "cancelled", when=when, reference=appt.case.reference)
    return _done(text, sources=[Source(ctx.say(SKILL, "mine"), page("appointments"))])
