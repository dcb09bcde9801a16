"""Bin days: find an address, see its next collections and month calendar, print a year,
subscribe a calendar app to its iCal feed. Works without JavaScript."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from townhall.core import clock
from townhall.places.models import Place
from townhall.portal.forms import place_search_from
from townhall.portal.selectors import place_get
from townhall.waste.ical import collections_ical
from townhall.waste.models import Zone
from townhall.waste.schedule import Collection
from townhall.waste.selectors import (
    CalendarDay,
    collections_for_zone,
    month_weeks,
    stream_names,
    waste_config_get,
    waste_timezone,
    zone_for_place,
)


def _place(place_id: int) -> Place:
    place = place_get(place_id=place_id)
    if place is None:
        raise Http404
    return place


def _today() -> dt.date:
    return clock.now().astimezone(waste_timezone(waste_config_get())).date()


@require_GET
def bins_view(request: HttpRequest) -> HttpResponse:
    """Search for an address; list the matches with links to their bin days."""
    form, matches = place_search_from(request)
    return render(
        request,
        "portal/bins/search.html",
        {"form": form, "matches": matches},
        status=400 if form.errors else 200,
    )


DAY_NAMES = [
    (_("Mon"), _("Monday")),
    (_("Tue"), _("Tuesday")),
    (_("Wed"), _("Wednesday")),
    (_("Thu"), _("Thursday")),
    (_("Fri"), _("Friday")),
    (_("Sat"), _("Saturday")),
    (_("Sun"), _("Sunday")),
]


def _named(weeks: list[list[CalendarDay]], names: dict[str, str]) -> list[list[dict[str, Any]]]:
    return [
        [{"day": c.day, "streams": [names.get(s, s) for s in c.streams]} for c in week]
        for week in weeks
    ]


def _names() -> dict[str, str]:
    return {code: s.name for code, s in stream_names().items()}


def _month(request: HttpRequest, today: dt.date) -> dt.date:
    try:
        month = dt.datetime.strptime(request.GET.get("month", ""), "%Y-%m").date()  # noqa: DTZ007
    except ValueError:
        return today.replace(day=1)
    # Far-off months are nobody's bin day, and the year 9999 has no next month.
    return month if abs(month.year - today.year) <= 5 else today.replace(day=1)


def _month_end(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def _between(zone: Zone | None, start: dt.date, end: dt.date) -> list[Collection]:
    return [] if zone is None else collections_for_zone(zone=zone, start=start, end=end)


@require_GET
def bins_address_view(request: HttpRequest, place_id: int) -> HttpResponse:
    """Show an address's next collections and a month calendar."""
    place = _place(place_id)
    zone = zone_for_place(place=place)
    today = _today()
    month = _month(request, today)
    end = _month_end(month)
    names = _names()
    upcoming = [
        {"day": c.day, "moved": c.moved, "streams": [names.get(s, s) for s in c.streams]}
        for c in _between(zone, today, today + dt.timedelta(days=120))[:6]
    ]
    context = {
        "place": place,
        "zone": zone,
        "upcoming": upcoming,
        "month": month,
        "day_names": DAY_NAMES,
        "weeks": _named(month_weeks(month.year, month.month, _between(zone, month, end)), names),
        "previous": (month - dt.timedelta(days=1)).replace(day=1),
        "next": end + dt.timedelta(days=1),
    }
    return render(request, "portal/bins/address.html", context)


@require_GET
def bins_print_view(request: HttpRequest, place_id: int) -> HttpResponse:
    """Show twelve months from this one, laid out for printing."""
    place = _place(place_id)
    zone = zone_for_place(place=place)
    first = _today().replace(day=1)
    starts = [first]
    for _n in range(11):
        starts.append(_month_end(starts[-1]) + dt.timedelta(days=1))
    found = _between(zone, first, _month_end(starts[-1]))
    names = _names()
    months = [
        (start, _named(month_weeks(start.year, start.month, found), names)) for start in starts
    ]
    return render(
        request,
        "portal/bins/print.html",
        {"place": place, "zone": zone, "months": months, "day_names": DAY_NAMES},
    )


@require_GET
def bins_ical_view(request: HttpRequest, place_id: int) -> HttpResponse:
    """Return the address's collections from last month to a year ahead as iCalendar."""
    place = _place(place_id)
    today = _today()
    collections = _between(
        zone_for_place(place=place), today - dt.timedelta(days=31), today + dt.timedelta(days=366)
    )
    body = collections_ical(
        collections,
        uid_prefix=f"bins-{place.pk}",
        title=str(_("Bin days: %(address)s") % {"address": place.address}),
        names=_names(),
        stamp=clock.now(),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="bins-{place.pk}.ics"'
    return response
