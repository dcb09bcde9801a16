"""Per-address reads: next collections, month grid, the iCal feed, the missed-bin window,
zones from polygons, and the demo loader."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from icalendar import Calendar

from townhall.core.errors import ValidationFailed
from townhall.places.models import Place
from townhall.waste.demo import demo_waste_load
from townhall.waste.ical import collections_ical
from townhall.waste.models import Zone, ZonePlace
from townhall.waste.selectors import (
    collection_missed_report_allowed,
    collection_next,
    collections_for_place,
    month_weeks,
    zone_for_place,
)
from townhall.waste.services import waste_reminder_subscribe, zone_places_assign

pytestmark = pytest.mark.django_db


def test_next_collections_list_the_streams_of_each_day(home: Place) -> None:
    found = collection_next(place=home, today=date(2024, 12, 16), limit=3)
    # New Year's Day 2025 is a Wednesday: learnt from Christmas on a Wednesday in 2024, the
    # collection moves to Thursday 2 January, as the city published it in its 2025 file.
    assert [c.day for c in found] == [date(2024, 12, 18), date(2024, 12, 26), date(2025, 1, 2)]
    assert set(found[0].streams) == {"organics", "garbage"}
    assert found[1].moved and found[2].moved  # by the learnt holiday rows, not overrides


def test_an_address_outside_every_zone_has_no_collections(toronto: Any) -> None:
    place = Place.objects.create(
        property_id="X", address="1 Nowhere", lat=0, long=0, search_text="1 nowhere"
    )
    assert zone_for_place(place=place) is None
    assert collections_for_place(place=place, start=date(2024, 1, 1), end=date(2024, 12, 31)) == []


def test_the_month_grid_starts_on_monday(home: Place) -> None:
    found = collections_for_place(place=home, start=date(2024, 12, 1), end=date(2024, 12, 31))
    weeks = month_weeks(2024, 12, found)
    assert weeks[0][0].day is None and weeks[0][6].day == date(2024, 12, 1)
    streams = {cell.day: cell.streams for week in weeks for cell in week if cell.day}
    assert "organics" in streams[date(2024, 12, 4)] and streams[date(2024, 12, 5)] == ()


def test_the_ical_feed_parses_back_with_one_event_a_collection_day(home: Place) -> None:
    found = collections_for_place(place=home, start=date(2024, 12, 1), end=date(2024, 12, 31))
    body = collections_ical(
        found,
        uid_prefix="bins-1",
        title="Bin days",
        names={"organics": "Food and organics"},
        stamp=datetime(2024, 11, 1, tzinfo=UTC),
    )
    cal = Calendar.from_ical(body)
    events = list(cal.walk("VEVENT"))
    assert len(events) == len(found) == 4
    first = events[0]
    assert first.decoded("dtstart") == date(2024, 12, 4)
    assert "Food and organics" in str(first["summary"])
    assert len({str(e["uid"]) for e in events}) == 4


@pytest.mark.parametrize(
    ("now", "allowed"),
    [
        (datetime(2024, 12, 18, 15, 0, tzinfo=UTC), False),  # 10:00 in Toronto, crews still out
        (datetime(2024, 12, 18, 23, 30, tzinfo=UTC), True),  # 18:30 on collection day
        (datetime(2024, 12, 19, 14, 0, tzinfo=UTC), True),  # the next day
        (datetime(2024, 12, 20, 14, 0, tzinfo=UTC), False),  # two days later
        (datetime(2024, 12, 25, 23, 30, tzinfo=UTC), False),  # Christmas: moved to Boxing Day
        (datetime(2024, 12, 26, 23, 30, tzinfo=UTC), True),
    ],
)
def test_a_missed_bin_can_be_reported_only_after_the_crews_are_done(
    home: Place, now: datetime, allowed: bool
) -> None:
    check = collection_missed_report_allowed(place=home, stream="organics", now=now)
    assert check.allowed is allowed, check.reason
    assert check.reason


def test_a_missed_report_for_a_stream_not_due_is_refused(home: Place) -> None:
    # Recycling was not collected on Wednesday 18 December 2024 in Wednesday1.
    allowed, reason = collection_missed_report_allowed(
        place=home, stream="recycling", now=datetime(2024, 12, 18, 23, 30, tzinfo=UTC)
    )
    assert not allowed and "not due" in reason


def test_polygons_put_addresses_in_zones(db: None) -> None:
    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    zone = Zone.objects.create(code="sq", name="Square", geometry=square)
    inside = Place.objects.create(property_id="in", address="a", lat=0.5, long=0.5, search_text="a")
    Place.objects.create(property_id="out", address="b", lat=2, long=2, search_text="b")
    assert zone_places_assign() == 1
    assert ZonePlace.objects.get().place == inside and zone_for_place(place=inside) == zone


def test_the_demo_loader_makes_four_zones_over_the_demo_places(db: None) -> None:
    places = [
        Place.objects.create(
            property_id=f"D{n}",
            address=f"{n} Demo Road",
            lat=42.36 + n / 1000,
            long=-71.09 + (n % 7) / 1000,
            search_text=f"{n} demo road",
        )
        for n in range(40)
    ]
    summary = demo_waste_load(places)
    assert summary == {"zones": 4, "rules": 20, "places": 40}
    assert ZonePlace.objects.values("zone").distinct().count() == 4
    assert collection_next(place=places[0], today=date(2026, 3, 2))
    assert demo_waste_load(places) == summary  # runs again


def test_a_reminder_needs_a_contact(home: Place) -> None:
    with pytest.raises(ValidationFailed) as caught:
        waste_reminder_subscribe(place=home)
    assert "email" in caught.value.details


def test_the_zones_command_reads_geojson_and_assigns_addresses(tmp_path: Any, db: None) -> None:
    import json

    from django.core.management import CommandError, call_command

    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    path = tmp_path / "zones.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": "north", "name": "North"},
                        "geometry": square,
                    }
                ],
            }
        )
    )
    place = Place.objects.create(property_id="in", address="a", lat=0.5, long=0.5, search_text="a")
    call_command("waste", "zones", str(path), verbosity=0)
    assert zone_for_place(place=place) == Zone.objects.get(code="north", name="North")
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{"properties": {}}]}))
    with pytest.raises(CommandError, match="cannot be imported"):
        call_command("waste", "zones", str(path), verbosity=0)


def test_zone_polygons_are_read_long_then_lat(db: None) -> None:
    # One degree of latitude (0..1) by one of longitude (10..11): the address at lat 0.5,
    # long 10.5 is in it; one at the swapped position (lat 10.5, long 0.5) is not.
    box = {"type": "Polygon", "coordinates": [[[10, 0], [11, 0], [11, 1], [10, 1], [10, 0]]]}
    zone = Zone.objects.create(code="box", name="Box", geometry=box)
    inside = Place.objects.create(
        property_id="in", address="a", lat=0.5, long=10.5, search_text="a"
    )
    swapped = Place.objects.create(
        property_id="sw", address="b", lat=10.5, long=0.5, search_text="b"
    )
    assert zone_places_assign() == 1
    assert ZonePlace.objects.get().place == inside
    assert zone_for_place(place=inside) == zone and zone_for_place(place=swapped) is None
