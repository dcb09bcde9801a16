"""Reads: an address's zone, its collections, month grids, the iCal feed, and whether a
missed bin may be reported yet."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _

from townhall.places.models import Place
from townhall.waste.geo import geometry_contains
from townhall.waste.holiday_policy import ANY, HolidayBehaviour, HolidayPolicy
from townhall.waste.models import (
    CollectionOverride,
    CollectionRule,
    HolidayHandling,
    Stream,
    WasteConfig,
    Zone,
    ZonePlace,
)
from townhall.waste.public_holidays import public_holidays
from townhall.waste.schedule import (
    PAD,
    Collection,
    HolidayRule,
    Override,
    OverrideAction,
    Rule,
    Season,
    collections_between,
)


def waste_config_get() -> WasteConfig:
    """Return the council's waste settings (the defaults, unsaved, before any are set)."""
    return WasteConfig.objects.order_by("pk").first() or WasteConfig()


def waste_timezone(config: WasteConfig) -> ZoneInfo:
    """Return the time zone collection days are counted in."""
    return ZoneInfo(config.timezone or settings.TIME_ZONE)


def stream_names() -> dict[str, Stream]:
    """Return every stream by code, in display order."""
    return {s.code: s for s in Stream.objects.all()}


def zone_for_place(*, place: Place) -> Zone | None:
    """Return the zone of an address: as assigned, else the first polygon holding it."""
    link = ZonePlace.objects.select_related("zone").filter(place=place).first()
    if link is not None:
        return link.zone
    for zone in Zone.objects.exclude(geometry=None):
        if geometry_contains(zone.geometry, lat=place.lat, long=place.long):
            return zone
    return None


def zone_rules(zone: Zone) -> list[Rule]:
    """Return the zone's rules as pure schedule rules."""
    return [
        Rule(
            stream=r.stream.code,
            weekday=r.weekday,
            cycle_weeks=r.cycle_weeks,
            phase=r.phase,
            season=Season(
                start=(r.season_start_month, r.season_start_day),
                end=(r.season_end_month, r.season_end_day),
                weeks=r.season_weeks,
            ),
        )
        for r in CollectionRule.objects.filter(zone=zone)
        .select_related("stream")
        .order_by("stream__order", "stream__code")
    ]


def zone_overrides(zone: Zone | None, start: dt.date, end: dt.date) -> list[Override]:
    """Return the overrides for the zone (and those for every zone) near [start, end]."""
    rows = CollectionOverride.objects.filter(
        day__gte=start - PAD, day__lte=end + PAD
    ).select_related("stream")
    rows = rows.filter(zone=zone) | rows.filter(zone=None) if zone else rows.filter(zone=None)
    return [
        Override(
            day=o.day,
            action=OverrideAction(o.action),
            stream=o.stream.code if o.stream else "",
            to=o.to,
        )
        for o in rows
    ]


def waste_holidays(config: WasteConfig, start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """Return the holidays on which the crews do not collect, around [start, end]."""
    return public_holidays(
        country=config.country,
        subdivision=config.subdivision,
        years=range(start.year - 1, end.year + 2),
        names=config.holiday_names.splitlines(),
    )


def holiday_policy(config: WasteConfig) -> HolidayPolicy | None:
    """Return the per-holiday policy (`HolidayHandling` rows, the council's holiday rule as
    the default), or None when there are no rows: then the holiday rule applies alone."""
    # Staff rows (learnt off) come last, so they win over a learnt row for the same key.
    rows = list(HolidayHandling.objects.select_related("stream").order_by("-learnt", "pk"))
    if not rows:
        return None
    return HolidayPolicy(
        behaviours=tuple(
            HolidayBehaviour(
                holiday=r.holiday,
                weekday=r.weekday,
                stream=r.stream.code if r.stream else ANY,
                effect=HolidayRule(r.effect),
                exact=tuple((int(w), None if d is None else int(d)) for w, d in r.exact),
            )
            for r in rows
        ),
        default=HolidayRule(config.holiday_rule),
    )


def _shift(
    policy: HolidayPolicy | None, holidays: dict[dt.date, str]
) -> Callable[[dt.date, str], dt.date | None] | None:
    if policy is None:
        return None
    return lambda day, stream: policy.shift(day, holidays, stream)


def collections_for_zone(
    *, zone: Zone, start: dt.date, end: dt.date, config: WasteConfig | None = None
) -> list[Collection]:
    """Return the zone's collections in [start, end], holidays and overrides applied."""
    config = config or waste_config_get()
    holidays = waste_holidays(config, start, end)
    return collections_between(
        zone_rules(zone),
        start,
        end,
        holidays=holidays,
        holiday_rule=HolidayRule(config.holiday_rule),
        overrides=zone_overrides(zone, start, end),
        shift=_shift(holiday_policy(config), holidays),
    )


def collection_move_holiday(
    *, collection: Collection, config: WasteConfig | None = None
) -> tuple[dt.date, str] | None:
    """Return the public holiday (date, name) that moved a collection off its regular day,
    for saying why ("Christmas Day moves collections a day later"); None if it was not
    moved, or moved by an override rather than a holiday."""
    if not collection.moved:
        return None
    config = config or waste_config_get()
    regular = collection.regular_day
    monday = regular - dt.timedelta(days=regular.weekday())
    holidays = waste_holidays(config, monday, regular)
    week = [h for h in sorted(holidays) if monday <= h <= regular]
    policy = holiday_policy(config)
    for h in reversed(week):
        if (
            policy is None
            or policy.closed(h, holidays, ANY)
            or any(
                policy.effect_of(holidays[h], h.weekday(), s)[0] is not HolidayRule.COLLECT
                for s in collection.streams
            )
        ):
            return h, holidays[h]
    return None


def collections_for_place(*, place: Place, start: dt.date, end: dt.date) -> list[Collection]:
    """Return an address's collections in [start, end] ([] outside every zone)."""
    zone = zone_for_place(place=place)
    return [] if zone is None else collections_for_zone(zone=zone, start=start, end=end)


def collection_next(*, place: Place, today: dt.date, limit: int = 6) -> list[Collection]:
    """Return the address's next `limit` collections from `today` on."""
    return collections_for_place(place=place, start=today, end=today + dt.timedelta(days=120))[
        :limit
    ]


@dataclass(frozen=True)
class CalendarDay:
    day: dt.date | None  # None pads the first and last week
    streams: tuple[str, ...] = ()


def month_weeks(year: int, month: int, collections: list[Collection]) -> list[list[CalendarDay]]:
    """Return the month as Monday-first weeks of days, each with its streams."""
    by_day = {c.day: c.streams for c in collections}
    return [
        [
            CalendarDay(day=d, streams=by_day.get(d, ())) if d.month == month else CalendarDay(None)
            for d in week
        ]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    ]


class MissedReportCheck(NamedTuple):
    allowed: bool
    reason: str


def collection_missed_report_allowed(
    *, place: Place, stream: str, now: dt.datetime
) -> MissedReportCheck:
    """Return whether a missed `stream` bin at `place` may be reported at `now`, and why.

    Allowed from the time the crews are done (`WasteConfig.crews_done_by`) on a day the
    stream was collected at that address, until the end of the next day.
    """
    config = waste_config_get()
    local = now.astimezone(waste_timezone(config))
    today = local.date()
    zone = zone_for_place(place=place)
    if zone is None:
        return MissedReportCheck(False, _("We do not collect bins at this address."))
    recent = collections_for_zone(
        zone=zone, start=today - dt.timedelta(days=1), end=today, config=config
    )
    days = [c.day for c in recent if stream in c.streams]
    if today in days:
        if local.time() >= config.crews_done_by:
            return MissedReportCheck(True, _("Collected today; the crews have finished."))
        return MissedReportCheck(
            False,
            _("The crews collect until %(time)s today. Please report it after that.")
            % {"time": config.crews_done_by.strftime("%H:%M")},
        )
    if today - dt.timedelta(days=1) in days:
        return MissedReportCheck(True, _("Collected yesterday."))
    return MissedReportCheck(
        False, _("This bin was not due to be collected today or yesterday at this address.")
    )


def waste_schedule_rows(
    *, start: dt.date, end: dt.date
) -> list[tuple[str, int, dt.date, tuple[str, ...]]]:
    """Return (zone code, zone weekday, date, streams) for every zone, zone by zone."""
    config = waste_config_get()
    holidays = waste_holidays(config, start, end)
    shift = _shift(holiday_policy(config), holidays)
    rows = []
    for zone in Zone.objects.order_by("code"):
        rules = zone_rules(zone)
        if not rules:
            continue
        weekday = max({r.weekday for r in rules}, key=[r.weekday for r in rules].count)
        for c in collections_between(
            rules,
            start,
            end,
            holidays=holidays,
            holiday_rule=HolidayRule(config.holiday_rule),
            overrides=zone_overrides(zone, start, end),
            shift=shift,
        ):
            rows.append((zone.code, weekday, c.day, c.streams))
    return rows
