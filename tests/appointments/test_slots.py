"""Slots come from the templates on the days the office opens: public holidays (the
`holidays` package) and the council's closures give none; generation is idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from townhall.appointments.models import Slot
from townhall.appointments.slots import slots_generate
from townhall.catalog.models import CalendarClosure

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
# Sunday 20 December 2026, evening: the window covers Christmas Eve (the test town's
# closure) and Christmas Day (a US public holiday).
NOW = dt.datetime(2026, 12, 20, 18, 0, tzinfo=NY)


def _days() -> set[dt.date]:
    return {s.starts_at.astimezone(NY).date() for s in Slot.objects.all()}


def test_holidays_and_closures_get_no_slots(templates: Any) -> None:
    made = slots_generate(now=NOW, days=10)
    days = _days()
    assert dt.date(2026, 12, 24) not in days  # closure (Christmas Eve)
    assert dt.date(2026, 12, 25) not in days  # public holiday
    assert dt.date(2026, 12, 23) in days and dt.date(2026, 12, 26) in days  # Saturday worked
    # 4 slots a day of 15 minutes from 09:00 to 10:00: the 21st to the 30th minus 2 closed
    # days (the 20th's are past).
    assert made == 8 * 4
    starts = sorted(
        s.starts_at.astimezone(NY).time()
        for s in Slot.objects.filter(starts_at__date=dt.date(2026, 12, 21))
    )
    assert starts == [dt.time(9, 0), dt.time(9, 15), dt.time(9, 30), dt.time(9, 45)]


def test_generation_twice_makes_nothing_new(templates: Any) -> None:
    first = slots_generate(now=NOW, days=10)
    again = slots_generate(now=NOW, days=10)
    assert first == 32 and again == 0
    assert Slot.objects.count() == 32


def test_a_closure_declared_later_withdraws_free_slots(templates: Any, town: Any) -> None:
    slots_generate(now=NOW, days=10)
    CalendarClosure.objects.create(
        calendar=town.calendar, date=dt.date(2026, 12, 28), reason="Flood"
    )
    from townhall.catalog.selectors import catalog_cache_clear

    catalog_cache_clear()
    slots_generate(now=NOW, days=10)
    on_28 = [
        s for s in Slot.objects.all() if s.starts_at.astimezone(NY).date() == dt.date(2026, 12, 28)
    ]
    assert on_28 and all(s.withdrawn for s in on_28)


def test_slots_keep_wall_clock_time_across_dst(templates: Any) -> None:
    before_dst = dt.datetime(2027, 3, 12, 18, 0, tzinfo=NY)  # DST starts Sunday 14 March
    slots_generate(now=before_dst, days=4)
    for day in (dt.date(2027, 3, 13), dt.date(2027, 3, 15)):
        first = min(
            s.starts_at for s in Slot.objects.all() if s.starts_at.astimezone(NY).date() == day
        )
        assert first.astimezone(NY).time() == dt.time(9, 0)
