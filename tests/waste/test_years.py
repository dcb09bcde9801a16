"""Learning from several published years at once, with what each holiday does."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from tests.waste.conftest import DATA
from townhall.places.models import Place
from townhall.waste.evaluation import schedule_evaluate
from townhall.waste.holiday_policy import ANY
from townhall.waste.inference import zones_learn
from townhall.waste.models import CollectionRule, HolidayHandling, Zone, ZonePlace
from townhall.waste.public_holidays import public_holidays
from townhall.waste.schedule import HolidayRule, Season
from townhall.waste.selectors import (
    collection_move_holiday,
    collections_for_zone,
    waste_config_get,
)
from townhall.waste.services import waste_config_set, waste_import_toronto
from townhall.waste.toronto import TorontoRow, toronto_read

HOLIDAYS = public_holidays(country="CA", subdivision="ON", years=range(2022, 2028))
EXCERPTS = [DATA / f"toronto-{year}-excerpt.csv" for year in (2023, 2024, 2025)]
FULL_2025 = DATA / "toronto" / "pickup-schedule-2025.csv"
FULL_2026 = DATA / "toronto" / "pickup-schedule-2026.csv"


def rows_of(path: Path, zones: set[str] | None = None) -> list[tuple[str, date, tuple[str, ...]]]:
    with path.open(newline="") as handle:
        return [
            (r.zone, r.day, r.streams)
            for _, r in toronto_read(handle)
            if isinstance(r, TorontoRow) and (zones is None or r.zone in zones)
        ]


def test_two_years_learnt_together_reproduce_the_next_exactly() -> None:
    learn = rows_of(EXCERPTS[0]) + rows_of(EXCERPTS[1])
    result = schedule_evaluate(learn, rows_of(EXCERPTS[2]), holidays=HOLIDAYS)
    assert (result.missed, result.extra) == (0, 0), result.differences
    assert result.matched == 380 and result.recall == result.precision == 1.0
    # New Year's Day 2025 fell on a Wednesday, never seen on a collection day before: it
    # slides as Christmas Day did on a Wednesday in 2024 ("as other Wed holidays").
    assert "Christmas Day: slide_week" in result.policy
    assert "any holiday on Wed: slide_week" in result.policy


def test_the_2026_file_with_its_renamed_columns_is_reproduced_from_2024_and_2025() -> None:
    zones = {"Tuesday1", "Wednesday1", "Friday2"}
    learn = rows_of(EXCERPTS[1]) + rows_of(EXCERPTS[2])
    actual = rows_of(FULL_2026, zones)
    result = schedule_evaluate(learn, actual, holidays=HOLIDAYS)
    assert "recycling" not in result.streams  # the 2026 file has no Recycling column
    assert (result.missed, result.extra) == (0, 0), result.differences
    # New Year's Day 2026 (Thursday) and Christmas Day 2026 (Friday) slide, as learnt.
    assert ("Friday2", date(2026, 12, 26), ("organics", "garbage")) in actual


def test_the_christmas_tree_season_is_learnt_in_weeks() -> None:
    _, zones = zones_learn(rows_of(EXCERPTS[0]) + rows_of(EXCERPTS[1]), holidays=HOLIDAYS)
    trees = {z.zone: r.season for z in zones for r in z.rules if r.stream == "christmas_tree"}
    # "the first four weeks of January": 2025's trees start on 7 January, not the 2nd.
    assert set(trees.values()) == {Season(start=(1, 1), weeks=4)}
    garden = next(r.season for z in zones for r in z.rules if r.stream == "garden")
    assert garden.weeks == 40 and garden.start[0] == 3


def week(monday: date, zone: str, weekday: int, shift: int | None) -> list[tuple]:
    if shift is None:
        return []
    return [(zone, monday + timedelta(days=weekday + shift), ("garbage",))]


def synthetic(year_from: date, year_to: date, moves: dict[date, dict[str, int | None]]) -> list:
    """Weekly garbage in zone Wed (Wednesday) and Thu (Thursday); `moves` gives, per
    Monday, the shift in days (None: skipped) of each zone's collection that week."""
    rows: list[tuple] = []
    monday = year_from - timedelta(days=year_from.weekday())
    while monday <= year_to:
        for zone, weekday in (("Wed", 2), ("Thu", 3)):
            shift = moves.get(monday, {}).get(zone, 0)
            rows += [r for r in week(monday, zone, weekday, shift) if year_from <= r[1] <= year_to]
        monday += timedelta(weeks=1)
    return rows


def test_a_skipped_holiday_and_a_sliding_one_are_told_apart() -> None:
    # 2024: Christmas Day (Wednesday) moves Wednesday to Thursday and Thursday to Friday;
    # New Year's Day 2025 (Wednesday) is simply not collected, Thursday as usual.
    rows = synthetic(
        date(2024, 1, 1),
        date(2025, 12, 31),
        {
            date(2024, 12, 23): {"Wed": 1, "Thu": 1},
            date(2024, 12, 30): {"Wed": None},
            date(2025, 12, 22): {"Thu": 1},  # Christmas 2025 on Thursday: slides too
        },
    )
    policy, _ = zones_learn(rows, holidays=HOLIDAYS)
    assert policy.effect_of("Christmas Day", 3) == (HolidayRule.SLIDE_WEEK, "holiday")
    assert policy.effect_of("New Year's Day", 2) == (HolidayRule.SKIP, "holiday")
    assert policy.shift(date(2025, 7, 2), HOLIDAYS, ANY) == date(2025, 7, 2)  # Canada Day
    # Applied to 2026: New Year's Day on a Thursday is skipped, Christmas (Friday) slides.
    assert policy.shift(date(2026, 1, 1), HOLIDAYS, "garbage") is None
    assert policy.shift(date(2025, 12, 31), HOLIDAYS, "garbage") == date(2025, 12, 31)
    assert policy.shift(date(2026, 12, 25), HOLIDAYS, ANY) == date(2026, 12, 26)


def test_a_stream_the_holiday_treats_differently_gets_its_own_row() -> None:
    # Christmas 2024 (Wednesday): garbage moves to Thursday, organics is not made up.
    rows = []
    for zone, day, streams in synthetic(date(2024, 1, 1), date(2024, 12, 31), {}):
        rows.append((zone, day, (*streams, "organics")))
    rows = [r for r in rows if r[1] != date(2024, 12, 25)]
    rows.append(("Wed", date(2024, 12, 26), ("garbage",)))
    policy, _ = zones_learn([r for r in rows if r[0] == "Wed"], holidays=HOLIDAYS)
    assert policy.shift(date(2024, 12, 25), HOLIDAYS, "garbage") == date(2024, 12, 26)
    assert policy.shift(date(2024, 12, 25), HOLIDAYS, "organics") is None
    effects = {policy.effect_of("Christmas Day", 2, s)[0] for s in ("garbage", "organics")}
    assert effects == {HolidayRule.SKIP, HolidayRule.NEXT_DAY}


@pytest.mark.django_db
def test_import_of_several_files_stores_the_holiday_rows_and_uses_them() -> None:
    out = io.StringIO()
    call_command(
        "waste",
        "import",
        *map(str, EXCERPTS[:2]),
        "--country",
        "CA",
        "--subdivision",
        "ON",
        stdout=out,
        verbosity=0,
    )
    assert (
        "(2023, 2024)" in out.getvalue() and "holiday Christmas Day: slide_week" in out.getvalue()
    )
    assert HolidayHandling.objects.filter(holiday="Christmas Day", effect="slide_week").exists()
    assert CollectionRule.objects.filter(stream__code="christmas_tree", season_weeks=4).count() == 3
    zone = Zone.objects.get(code="Wednesday1")
    days = {
        c.day
        for c in collections_for_zone(zone=zone, start=date(2025, 1, 1), end=date(2025, 12, 31))
    }
    assert date(2025, 1, 2) in days and date(2025, 1, 1) not in days  # New Year, learnt
    published = {d for _, d, _ in rows_of(EXCERPTS[2], {"Wednesday1"})}
    assert days == published
    # Staff rows win over learnt ones and survive a new import.
    HolidayHandling.objects.create(holiday="New Year's Day", effect="collect", learnt=False)
    assert date(2025, 1, 1) in {
        c.day for c in collections_for_zone(zone=zone, start=date(2025, 1, 1), end=date(2025, 1, 5))
    }
    call_command("waste", "import", *map(str, EXCERPTS[:2]), stdout=io.StringIO(), verbosity=0)
    assert HolidayHandling.objects.filter(learnt=False).count() == 1
    assert date(2025, 1, 1) in {  # and still wins over the re-learnt rows
        c.day for c in collections_for_zone(zone=zone, start=date(2025, 1, 1), end=date(2025, 1, 5))
    }


@pytest.mark.django_db
def test_the_single_file_import_still_works_and_is_idempotent() -> None:
    waste_config_set(country="CA", subdivision="ON")
    for _ in range(2):
        with EXCERPTS[0].open(newline="") as handle:
            report = waste_import_toronto(lines=list(toronto_read(handle)))
    assert (report.zones, report.years, report.overrides) == (3, [2023], 0)
    assert waste_config_get().holiday_rule == "collect"
    assert HolidayHandling.objects.filter(holiday="Good Friday", effect="collect").count() == 1


@pytest.mark.django_db
def test_the_evaluate_command_prints_name_value_lines() -> None:
    out = io.StringIO()
    call_command(
        "waste",
        "evaluate",
        "--learn",
        str(EXCERPTS[0]),
        "--against",
        str(EXCERPTS[1]),
        "--country",
        "CA",
        "--subdivision",
        "ON",
        stdout=out,
    )
    text = out.getvalue()
    # One year, Christmas never on a collection day in it: the 2024 Christmas moves miss.
    assert "matched: 376\n" in text and "missed: 4\n" in text and "extra: 4\n" in text
    assert "exact share: 98.95%" in text
    assert "Christmas Day (Wed 2024-12-25): collect, never seen on a collection day" in text


@pytest.mark.django_db
@time_machine.travel("2024-12-20 12:00Z", tick=False)
def test_the_portal_and_ical_show_the_learnt_new_year_move(client: Client, town: object) -> None:
    waste_config_set(country="CA", subdivision="ON", timezone="America/Toronto")
    for_import: list = []
    for path in EXCERPTS[:2]:
        with path.open(newline="") as handle:
            for_import += list(toronto_read(handle))
    waste_import_toronto(lines=for_import)
    place = Place.objects.create(
        property_id="TO-2", address="1 Yonge Street", lat=43.64, long=-79.37, search_text="1 yonge"
    )
    ZonePlace.objects.create(place=place, zone=Zone.objects.get(code="Wednesday1"))
    feed = client.get(reverse("portal:bins-ical", args=[place.pk]))
    starts = {e.decoded("dtstart") for e in Calendar.from_ical(feed.content).walk("VEVENT")}
    assert date(2025, 1, 2) in starts and date(2025, 1, 1) not in starts
    assert date(2024, 12, 26) in starts and date(2024, 12, 25) not in starts
    page = client.get(reverse("portal:bins-address", args=[place.pk])).content.decode()
    assert "Thursday 2 January 2025" in page
    zone = Zone.objects.get(code="Wednesday1")
    moved = collections_for_zone(zone=zone, start=date(2024, 12, 23), end=date(2025, 1, 5))
    reasons = [collection_move_holiday(collection=c) for c in moved]
    assert reasons == [(date(2024, 12, 25), "Christmas Day"), (date(2025, 1, 1), "New Year's Day")]


@pytest.mark.django_db
def test_without_a_country_there_are_no_holiday_rows_and_the_years_are_kept() -> None:
    lines: list = []
    for path in EXCERPTS[:2]:
        with path.open(newline="") as handle:
            lines += list(toronto_read(handle))
    report = waste_import_toronto(lines=lines)
    assert report.years == [2023, 2024] and not HolidayHandling.objects.exists()
    zone = Zone.objects.get(code="Wednesday1")
    days = {
        c.day
        for c in collections_for_zone(zone=zone, start=date(2024, 1, 1), end=date(2024, 12, 31))
    }
    assert days == {d for _, d, _ in rows_of(EXCERPTS[1], {"Wednesday1"})}  # by overrides
