"""The `waste_schedule` skill: an address from the gazetteer, then its next collections
with each holiday move explained, and the links the bin-days page offers (the calendar
feed and the evening-before reminder sign-up)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from townhall.assistant.dialogue_base import Ctx, Step, message, page
from townhall.assistant.dialogue_slots import address_match, place_get
from townhall.assistant.replies import Source
from townhall.core import clock
from townhall.core.dates import long_date
from townhall.places.models import Place
from townhall.waste.schedule import Collection
from townhall.waste.selectors import (
    collection_next,
    stream_names,
    waste_config_get,
    waste_holidays,
    waste_timezone,
)

SHOWN = 4


def address_step(ctx: Ctx, skill: str, *, use_memory: bool = True) -> Place | Step:
    """The address the resident named, or the step that asks again (a shared slot:
    a report's place also fills a later bin-days question, and the other way round)."""
    slots = ctx.slots
    if slots.get("place"):
        place = place_get(str(slots["place"]))
        if place is not None:
            return place
    asking = slots.get("_ask") == "address"
    if ctx.resume and asking:
        return Step([message(ctx.say(skill, "ask_address"))], done=False)
    found = address_match(ctx.text, asked=asking) if ctx.text and not ctx.resume else None
    if found is not None and found.place is not None:
        slots["place"] = found.place.property_id
        ctx.memory["place"] = found.place.property_id
        slots.pop("_ask", None)
        return found.place
    if found is not None and found.candidates:
        slots["_ask"] = "address"
        return Step(
            [
                message(
                    ctx.say(skill, "which_address"),
                    quick=[p.address for p in found.candidates],
                )
            ],
            done=False,
        )
    if use_memory and not asking and ctx.memory.get("place"):
        place = place_get(str(ctx.memory["place"]))
        if place is not None:
            slots["place"] = place.property_id
            return place
    slots["_ask"] = "address"
    if asking and ctx.text:
        text = ctx.say(skill, "unknown_address", text=ctx.text[:80])
        return Step([message(text)], done=False, data={"unknown_address": True})
    return Step([message(ctx.say(skill, "ask_address"))], done=False)


def _today() -> dt.date:
    return clock.now().astimezone(waste_timezone(waste_config_get())).date()


def _reason(collection: Collection, holidays: dict[dt.date, str]) -> str:
    """Why a collection is not on its usual day: the holiday that week, if there is one."""
    regular = collection.regular_day
    monday = regular - dt.timedelta(days=regular.weekday())
    for offset in range(7):
        day = monday + dt.timedelta(days=offset)
        if day in holidays and day <= max(regular, collection.day):
            return holidays[day]
    return _("a change to the collection schedule")


def waste_schedule(ctx: Ctx) -> Step:
    found = address_step(ctx, "waste_schedule")
    if isinstance(found, Step):
        return found
    place = found
    bins = Source(title=place.address, url=page("bins-address", place.pk))
    today = _today()
    upcoming = collection_next(place=place, today=today, limit=SHOWN)
    if not upcoming:
        text = ctx.say("waste_schedule", "no_zone", address=place.address)
        return Step([message(text, sources=[Source(_("Bin days"), page("bins"))])])
    names = {code: s.name for code, s in stream_names().items()}
    holidays = waste_holidays(waste_config_get(), today, upcoming[-1].day)
    lines = [ctx.say("waste_schedule", "next", address=place.address)]
    for collection in upcoming:
        streams = ", ".join(names.get(code, code) for code in collection.streams)
        line = f"• {long_date(collection.day)}: {streams}"
        if collection.moved:
            line += " " + ctx.say(
                "waste_schedule",
                "moved",
                regular=long_date(collection.regular_day),
                reason=_reason(collection, holidays),
            )
        lines.append(line)
    ical = page("bins-ical", place.pk)
    reminders = page("bin-reminders", place.pk)
    sources = [
        bins,
        Source(title=ctx.say("waste_schedule", "ical"), url=ical),
        Source(title=ctx.say("waste_schedule", "reminders"), url=reminders),
    ]
    return Step(
        [message("\n".join(lines), sources=sources, ical=ical, reminders=reminders)],
        outcome="contained",
        data={"place": place.property_id},
    )
