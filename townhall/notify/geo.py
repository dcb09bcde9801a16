"""Town-scale geometry for alert areas: circles and drawn polygons, pure.

Distances use an equirectangular projection around the shapes, accurate to well under
a metre over the few kilometres of a town; good enough to decide who hears an alert.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_000.0
Point = tuple[float, float]  # (lat, long)


@dataclass(frozen=True)
class Area:
    """A circle (centre, radius in metres) or a polygon; `everywhere()` when neither."""

    centre: Point | None = None
    radius_m: float = 0.0
    polygon: tuple[Point, ...] = ()

    @classmethod
    def everywhere(cls) -> Area:
        return cls()

    @property
    def is_everywhere(self) -> bool:
        return self.centre is None and not self.polygon

    def bbox(self) -> tuple[float, float, float, float] | None:
        """Return (min_lat, max_lat, min_long, max_long), or None for everywhere."""
        if self.polygon:
            lats = [p[0] for p in self.polygon]
            longs = [p[1] for p in self.polygon]
            return min(lats), max(lats), min(longs), max(longs)
        if self.centre is None:
            return None
        dlat = math.degrees(self.radius_m / EARTH_RADIUS_M)
        dlong = dlat / max(math.cos(math.radians(self.centre[0])), 1e-6)
        lat, long = self.centre
        return lat - dlat, lat + dlat, long - dlong, long + dlong


def area_from(
    *,
    lat: float | None,
    long: float | None,
    radius_m: float | None,
    polygon: Sequence[Sequence[float]] | None,
) -> Area:
    """Return the area stored in model fields (polygon wins over circle)."""
    if polygon:
        return Area(polygon=tuple((float(p[0]), float(p[1])) for p in polygon))
    if lat is not None and long is not None:
        return Area(centre=(lat, long), radius_m=float(radius_m or 0))
    return Area.everywhere()


def _xy(p: Point, origin: Point) -> tuple[float, float]:
    k = math.cos(math.radians(origin[0]))
    return (
        math.radians(p[1] - origin[1]) * EARTH_RADIUS_M * k,
        math.radians(p[0] - origin[0]) * EARTH_RADIUS_M,
    )


def _inside(point: Point, polygon: Sequence[Point]) -> bool:
    x, y = point[1], point[0]
    inside = False
    for (ay, ax), (by, bx) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        if (ay > y) != (by > y) and x < (bx - ax) * (y - ay) / (by - ay) + ax:
            inside = not inside
    return inside


def _segment_distance(p: Point, a: Point, b: Point) -> float:
    px, py = _xy(p, p)
    ax, ay = _xy(a, p)
    bx, by = _xy(b, p)
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
    return math.hypot(ax + t * dx - px, ay + t * dy - py)


def _distance_to_polygon(p: Point, polygon: Sequence[Point]) -> float:
    if _inside(p, polygon):
        return 0.0
    edges = zip(polygon, [*polygon[1:], polygon[0]], strict=True)
    return min(_segment_distance(p, a, b) for a, b in edges)


def _segments_cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    def orient(p: Point, q: Point, r: Point) -> float:
        return (q[1] - p[1]) * (r[0] - p[0]) - (q[0] - p[0]) * (r[1] - p[1])

    return (orient(a, b, c) > 0) != (orient(a, b, d) > 0) and (orient(c, d, a) > 0) != (
        orient(c, d, b) > 0
    )


def areas_meet(first: Area, second: Area) -> bool:
    """Return whether two areas overlap or touch."""
    if first.is_everywhere or second.is_everywhere:
        return True
    if first.centre is not None and second.centre is not None:
        a, b = _xy(first.centre, first.centre), _xy(second.centre, first.centre)
        return math.hypot(a[0] - b[0], a[1] - b[1]) <= first.radius_m + second.radius_m
    if first.centre is not None:
        return _distance_to_polygon(first.centre, second.polygon) <= first.radius_m
    if second.centre is not None:
        return _distance_to_polygon(second.centre, first.polygon) <= second.radius_m
    p, q = first.polygon, second.polygon
    if any(_inside(v, q) for v in p) or any(_inside(v, p) for v in q):
        return True
    p_edges = list(zip(p, [*p[1:], p[0]], strict=True))
    q_edges = list(zip(q, [*q[1:], q[0]], strict=True))
    return any(_segments_cross(a, b, c, d) for a, b in p_edges for c, d in q_edges)
