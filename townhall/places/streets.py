"""The town's streets drawn from the gazetteer, for a map with no tile server.

Each street is the line through its addresses in house-number order, the two sides of the
road (odd and even numbers) averaged into its middle, simplified to a few metres. Only
street names and lines leave this module: never an address, so the layer can be public.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from townhall.core import geometry
from townhall.places.models import Place

_NUMBER = re.compile(r"^(\d+)[a-zA-Z]?\s+(.+)$")
# Lines are simplified to this many metres (about 0.00005 degree): a street drawn at
# zoom 18 still looks straight where it is.
_SIMPLIFY_DEGREES = 0.00005
_CACHE_SECONDS = 300.0
_cached: list[tuple[float, dict[str, Any]]] = []


def street_of(address: str) -> tuple[str, int] | None:
    """Return (street, house number) of an address such as "12 Elm Street" or "Flat 2,
    7 Crescent Gardens, Millbrook"; None when no part starts with a house number."""
    for part in address.split(","):
        found = _NUMBER.match(part.strip())
        if found:
            return found.group(2).strip(), int(found.group(1))
    return None


def _middle(points: list[tuple[float, float]]) -> tuple[float, float]:
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def street_lines(
    rows: Iterable[tuple[str, float, float]],
) -> list[tuple[str, list[tuple[float, float]]]]:
    """Return (street, [(lat, long), …]) per street with two or more numbered addresses,
    from (address, lat, long) rows; sorted by street name."""
    by_street: dict[str, dict[int, list[tuple[float, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for address, lat, long in rows:
        found = street_of(address)
        if found is not None:
            street, number = found
            # 1 and 2 face each other, then 3 and 4…: one point in the road per pair.
            by_street[street][(number + 1) // 2].append((lat, long))
    lines = []
    for street in sorted(by_street):
        pairs = by_street[street]
        points = [_middle(pairs[k]) for k in sorted(pairs)]
        if len(points) >= 2:
            lines.append((street, points))
    return lines


def streets_cache_clear() -> None:
    """Forget the streets this process drew (after an import, between tests)."""
    _cached.clear()


def streets_geojson() -> dict[str, Any]:
    """Return the gazetteer's streets as a GeoJSON FeatureCollection of LineStrings with
    their names ([long, lat] order), kept per process for a few minutes."""
    if _cached and _cached[0][0] > time.monotonic():
        return _cached[0][1]
    rows = Place.objects.values_list("address", "lat", "long").iterator(chunk_size=5000)
    features = []
    for street, points in street_lines(rows):
        line = geometry.line_through(
            lats=[lat for lat, _ in points], longs=[long for _, long in points]
        ).simplify(_SIMPLIFY_DEGREES)
        features.append(
            {
                "type": "Feature",
                "properties": {"name": street},
                "geometry": geometry.shape_to_geojson(line),
            }
        )
    collection = {"type": "FeatureCollection", "features": features}
    _cached[:] = [(time.monotonic() + _CACHE_SECONDS, collection)]
    return collection
