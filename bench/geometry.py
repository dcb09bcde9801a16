"""Benchmark: point in polygon on shapely (`core/geometry.py`) against the hand-written
ray casting it replaced (kept here, verbatim, as the reference).

A waste zone as councils draw it: a wobbly ring of --vertices corners (default 240) about
1.5 km across with a hole, and --points addresses (default 10,000) scattered over its box.
Times, per point: the old `waste/geo.py` function; the new one (as `zone_for_place` calls
it: the GeoJSON serialised to find the shape kept for it); a prepared shape tested point by point (the
boundary check at intake, also with a 5,000-corner outline); and the vectorised test
`zone_places_assign` uses. Checks all
four give the same answers. No database.

    python bench/geometry.py --help
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _old_in_ring(x: float, y: float, ring: list[list[float]]) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def old_geometry_contains(geometry: dict[str, Any] | None, *, lat: float, long: float) -> bool:
    """The hand-written version in waste/geo.py before issue 16."""
    if not geometry:
        return False
    kind = geometry.get("type")
    polygons = (
        [geometry["coordinates"]]
        if kind == "Polygon"
        else geometry["coordinates"]
        if kind == "MultiPolygon"
        else []
    )
    for rings in polygons:
        if (
            rings
            and _old_in_ring(long, lat, rings[0])
            and not any(_old_in_ring(long, lat, hole) for hole in rings[1:])
        ):
            return True
    return False


def zone(vertices: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    lat0, long0 = 42.3601, -71.0942
    k = math.cos(math.radians(lat0))

    def ring(radius_m: float, n: int) -> list[list[float]]:
        pts = []
        for i in range(n):
            a = 2 * math.pi * i / n
            r = radius_m * (1 + 0.25 * math.sin(5 * a) + 0.05 * rng.random())
            pts.append([long0 + r * math.cos(a) / (111_320 * k), lat0 + r * math.sin(a) / 111_320])
        return [*pts, pts[0]]

    return {"type": "Polygon", "coordinates": [ring(750, vertices), ring(150, 24)]}


def timed(label: str, fn: Callable[[], list[bool]], points: int) -> tuple[float, list[bool]]:
    start = time.perf_counter()
    answers = fn()
    seconds = time.perf_counter() - start
    print(f"{label:<58} {seconds * 1000:9.1f} ms {seconds / points * 1e6:8.2f} us/point")
    return seconds, answers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--vertices", type=int, default=240)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--smoke", action="store_true", help="a few hundred points: it runs")
    args = parser.parse_args()
    if args.smoke:
        args.points = 300

    import shapely

    from townhall.core import geometry
    from townhall.waste.geo import geometry_contains

    polygon = zone(args.vertices, args.seed)
    rng = random.Random(args.seed)
    xs = [c[0] for c in polygon["coordinates"][0]]
    ys = [c[1] for c in polygon["coordinates"][0]]
    lats = [rng.uniform(min(ys), max(ys)) for _ in range(args.points)]
    longs = [rng.uniform(min(xs), max(xs)) for _ in range(args.points)]
    pairs = list(zip(lats, longs, strict=True))
    print(
        f"shapely {shapely.__version__}, {args.points:,} points, zone of {args.vertices} corners"
        " and a hole"
    )
    old_s, old = timed(
        "old ray casting, per point",
        lambda: [old_geometry_contains(polygon, lat=a, long=o) for a, o in pairs],
        args.points,
    )
    _, new_parse = timed(
        "new geometry_contains, per point (shape cached by content)",
        lambda: [geometry_contains(polygon, lat=a, long=o) for a, o in pairs],
        args.points,
    )
    shape = geometry.prepared(geometry.area_from_geojson(polygon))  # type: ignore[arg-type]
    prep_s, new_prep = timed(
        "new prepared shape, per point (intake boundary check)",
        lambda: [geometry.contains(shape, lat=a, long=o) for a, o in pairs],
        args.points,
    )
    many_s, new_many = timed(
        "new contains_many, all points at once (zone_places_assign)",
        lambda: geometry.contains_many(shape, lats=lats, longs=longs),
        args.points,
    )
    outline = geometry.prepared(geometry.area_from_geojson(zone(5000, args.seed)))  # type: ignore[arg-type]
    timed(
        "new prepared shape of 5,000 corners (a council outline)",
        lambda: [geometry.contains(outline, lat=a, long=o) for a, o in pairs],
        args.points,
    )
    differ = sum(
        1
        for a, b, c, d in zip(old, new_parse, new_prep, new_many, strict=True)
        if not a == b == c == d
    )
    print(f"inside: {sum(old):,} of {args.points:,}; answers that differ from the old: {differ}")
    print(f"ratio old/prepared {old_s / prep_s:.1f}x, old/vectorised {old_s / many_s:.1f}x")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
