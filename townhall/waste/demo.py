"""Demo bin zones for the demo town: four quadrants around the town's centre, collected
like Toronto (organics weekly; garbage and recycling on alternate weeks; garden waste
fortnightly from mid-March to early December; Christmas trees in January)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from townhall.places.models import Place
from townhall.waste.models import CollectionRule, WasteConfig, Zone, ZonePlace
from townhall.waste.services import streams_ensure

# (code, name, weekday, phase of garbage; recycling takes the other week)
DEMO_ZONES = [
    ("tuesday-a", "Tuesday, week A", 1, 0),
    ("wednesday-b", "Wednesday, week B", 2, 1),
    ("thursday-a", "Thursday, week A", 3, 0),
    ("friday-b", "Friday, week B", 4, 1),
]


def _value(place: Any, name: str) -> Any:
    return place[name] if isinstance(place, Mapping) else getattr(place, name)


def demo_waste_load(
    places: Iterable[Any], *, country: str = "US", subdivision: str = "MA", timezone: str = ""
) -> dict[str, int]:
    """Create the demo zones, streams and rules and put each place in its quadrant's zone.

    `places` are Place rows or the demo loader's dicts (property_id, lat, long); dicts are
    matched to Place rows by property_id. Run again, it replaces what it made.
    """
    items = list(places)
    if not items:
        return {"zones": 0, "rules": 0, "places": 0}
    lats = sorted(float(_value(p, "lat")) for p in items)
    longs = sorted(float(_value(p, "long")) for p in items)
    mid_lat, mid_long = lats[len(lats) // 2], longs[len(longs) // 2]
    south, north, west, east = lats[0] - 0.01, lats[-1] + 0.01, longs[0] - 0.01, longs[-1] + 0.01
    boxes = [
        (west, mid_lat, mid_long, north),
        (mid_long, mid_lat, east, north),
        (west, south, mid_long, mid_lat),
        (mid_long, south, east, mid_lat),
    ]
    with transaction.atomic():
        config = WasteConfig.objects.order_by("pk").first() or WasteConfig()
        config.country, config.subdivision = country, subdivision
        config.timezone = timezone
        config.holiday_names = "Christmas\nNew Year\nThanksgiving"
        config.holiday_rule = "slide_week"
        config.save()
        streams = streams_ensure(["organics", "garbage", "recycling", "garden", "christmas_tree"])
        zones = []
        for (code, name, weekday, phase), (x0, y0, x1, y1) in zip(DEMO_ZONES, boxes, strict=True):
            ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
            zone, _ = Zone.objects.update_or_create(
                code=code,
                defaults={"name": name, "geometry": {"type": "Polygon", "coordinates": [ring]}},
            )
            CollectionRule.objects.filter(zone=zone).delete()
            specs = [
                ("organics", 1, 0, (1, 1), (12, 31)),
                ("garbage", 2, phase, (1, 1), (12, 31)),
                ("recycling", 2, 1 - phase, (1, 1), (12, 31)),
                ("garden", 2, phase, (3, 10), (12, 10)),
                ("christmas_tree", 2, phase, (1, 1), (1, 31)),
            ]
            CollectionRule.objects.bulk_create(
                CollectionRule(
                    zone=zone,
                    stream=streams[code_],
                    weekday=weekday,
                    cycle_weeks=cycle,
                    phase=ph,
                    season_start_month=start[0],
                    season_start_day=start[1],
                    season_end_month=end[0],
                    season_end_day=end[1],
                )
                for code_, cycle, ph, start, end in specs
            )
            zones.append(zone)
        ids = [str(_value(p, "property_id")) for p in items]
        by_id = dict(Place.objects.filter(property_id__in=ids).values_list("property_id", "pk"))
        links = []
        for p in items:
            pk = by_id.get(str(_value(p, "property_id")))
            if pk is None:
                continue
            north_half = float(_value(p, "lat")) >= mid_lat
            east_half = float(_value(p, "long")) >= mid_long
            zone = zones[(0 if north_half else 2) + (1 if east_half else 0)]
            links.append(ZonePlace(place_id=pk, zone=zone))
        ZonePlace.objects.filter(place_id__in=[link.place_id for link in links]).delete()
        ZonePlace.objects.bulk_create(links, batch_size=2000)
    return {"zones": len(zones), "rules": len(zones) * 5, "places": len(links)}
