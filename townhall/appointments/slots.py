"""Slots made from templates for a rolling window ahead, on the office's open days.

Slots are stored, not computed on the fly: a stored slot is what a booking locks and counts
against (its `booked` counter under a conditional UPDATE), and what staff see on the day
list. `slots_generate` is idempotent (one slot per template and start, `ignore_conflicts`),
so the periodic task re-runs it safely; each run also withdraws the unbooked future slots
that fall on a day closed since they were made (a new closure, a holiday the calendar
gained). Closed days come from the council's business calendar (catalog.calendars:
public holidays from the `holidays` package plus local closures) — the same calendar the
SLA clock uses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.db import transaction

from townhall.appointments.models import Office, Slot, SlotTemplate
from townhall.catalog.calendars import WorkingCalendar
from townhall.catalog.models import Jurisdiction
from townhall.catalog.selectors import working_calendar_get

DEFAULT_WINDOW_DAYS = 28


def office_calendar(office: Office) -> WorkingCalendar:
    """The office's business calendar (its own, else its council's)."""
    calendar_id = office.calendar_id
    if calendar_id is None:
        calendar_id = Jurisdiction.objects.values_list("calendar_id", flat=True).get(
            pk=office.jurisdiction_id
        )
    return working_calendar_get(calendar_id=calendar_id)


def office_is_open(office: Office, day: dt.date) -> bool:
    """Whether the office meets residents on `day`: not a public holiday nor a closure.

    Templates say which weekdays are worked, so the calendar's own workdays do not forbid a
    Saturday surgery; only its closed days count.
    """
    return day not in office_calendar(office).closed_days


def template_times(
    template: SlotTemplate, day: dt.date, tz: ZoneInfo
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The (start, end) of each slot `template` makes on `day`, aware in `tz`.

    Wall-clock times are combined per day, so a 09:00 slot stays at 09:00 across DST.
    """
    out: list[tuple[dt.datetime, dt.datetime]] = []
    step = dt.timedelta(minutes=template.slot_minutes)
    cursor = dt.datetime.combine(day, template.starts)
    last = dt.datetime.combine(day, template.ends)
    while cursor + step <= last:
        out.append((cursor.replace(tzinfo=tz), (cursor + step).replace(tzinfo=tz)))
        cursor += step
    return out


def _applies(template: SlotTemplate, day: dt.date) -> bool:
    if day.weekday() != template.weekday:
        return False
    if template.valid_from and day < template.valid_from:
        return False
    return not (template.valid_until and day > template.valid_until)


def slots_generate(
    *,
    now: dt.datetime,
    days: int = DEFAULT_WINDOW_DAYS,
    templates: Iterable[SlotTemplate] | None = None,
) -> int:
    """Make the missing slots of every active template from today to `days` ahead; withdraw
    unbooked future slots on days now closed. Return how many slots were made."""
    chosen = (
        list(templates)
        if templates is not None
        else list(
            SlotTemplate.objects.filter(
                active=True, office__active=True, service__active=True
            ).select_related("office", "service")
        )
    )
    made = 0
    for template in chosen:
        calendar = office_calendar(template.office)
        tz = calendar.tz
        today = now.astimezone(tz).date()
        rows = []
        for offset in range(days + 1):
            day = today + dt.timedelta(days=offset)
            if not _applies(template, day) or day in calendar.closed_days:
                continue
            for start, end in template_times(template, day, tz):
                if start <= now:
                    continue
                rows.append(
                    Slot(
                        template=template,
                        office=template.office,
                        service=template.service,
                        staff_id=template.staff_id,
                        starts_at=start,
                        ends_at=end,
                        mode=template.mode,
                        capacity=template.capacity,
                    )
                )
        with transaction.atomic():
            before = Slot.objects.filter(template=template).count()
            Slot.objects.bulk_create(rows, ignore_conflicts=True)
            made += Slot.objects.filter(template=template).count() - before
    _withdraw_closed(now=now)
    return made


def _withdraw_closed(*, now: dt.datetime) -> int:
    """Withdraw unbooked future slots on days their office no longer opens."""
    withdrawn = 0
    offices = Office.objects.filter(slots__starts_at__gt=now, slots__withdrawn=False).distinct()
    for office in offices:
        calendar = office_calendar(office)
        ids = [
            pk
            for pk, starts_at in Slot.objects.filter(
                office=office, starts_at__gt=now, withdrawn=False, booked=0
            ).values_list("pk", "starts_at")
            if starts_at.astimezone(calendar.tz).date() in calendar.closed_days
        ]
        if ids:
            withdrawn += Slot.objects.filter(pk__in=ids, booked=0).update(withdrawn=True)
    return withdrawn
