"""An address's collections as an iCalendar feed (RFC 5545): one all-day event a day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from icalendar import Calendar, Event

from townhall.waste.schedule import Collection


def collections_ical(
    collections: Iterable[Collection],
    *,
    uid_prefix: str,
    title: str,
    names: Mapping[str, str],
    stamp: dt.datetime,
) -> bytes:
    """Return the feed; each event's UID is stable so calendar apps update, not duplicate."""
    cal = Calendar()
    cal.add("prodid", "-//Townhall//Bin collections//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", title)
    for c in collections:
        event = Event()
        event.add("uid", f"{uid_prefix}-{c.day.isoformat()}@townhall")
        event.add("dtstamp", stamp)
        event.add("dtstart", c.day)
        event.add("dtend", c.day + dt.timedelta(days=1))
        event.add("summary", ", ".join(names.get(s, s) for s in c.streams))
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return bytes(cal.to_ical())
