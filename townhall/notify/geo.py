"""Alert areas: circles and drawn polygons, on the shared geometry (`core/geometry.py`).

The polygon of an area is stored as its corners written [lat, long], as the map gives
them; it becomes a shape (in the geometry module's one order) only here, through
`polygon_from_lat_long`. Distances are in metres around the shapes, accurate to well
under a metre over the few kilometres of a town: good enough to decide who hears an alert.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from townhall.core import geometry
from townhall.core.geometry import EARTH_RADIUS_M

Point = tuple[float, float]  # (lat, long), as the area's fields store it

__all__ = ["EARTH_RADIUS_M", "Area", "Point", "area_from", "areas_meet"]


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

    @cached_property
    def shape(self) -> geometry.BaseGeometry | None:
        """The polygon as a shape; None for a circle, everywhere, or corners that make no
        polygon (such an area meets nothing but circles' centres never fall in it)."""
        if not self.polygon:
            return None
        try:
            return geometry.polygon_from_lat_long(self.polygon)
        except ValueError:
            return None

    def bbox(self) -> tuple[float, float, float, float] | None:
        """Return (min_lat, max_lat, min_long, max_long), or None for everywhere."""
        if self.polygon:
            lats = [p[0] for p in self.polygon]
            longs = [p[1] for p in self.polygon]
            return min(lats), max(lats), min(longs), max(longs)
        if self.centre is None:
            return None
        box = geometry.box_around(lat=self.centre[0], long=self.centre[1], radius_m=self.radius_m)
        return box.min_lat, box.max_lat, box.min_long, box.max_long


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


def _centres_apart_m(a: Point, b: Point) -> float:
    # Equirectangular around the first centre, as the circles' radii are measured.
    k = math.cos(math.radians(a[0]))
    dx = math.radians(b[1] - a[1]) * EARTH_RADIUS_M * k
    dy = math.radians(b[0] - a[0]) * EARTH_RADIUS_M
    return math.hypot(dx, dy)


def _circle_meets(centre: Point, radius_m: float, area: Area) -> bool:
    shape = area.shape
    if shape is None:
        return False
    return geometry.distance_to_m(shape, lat=centre[0], long=centre[1]) <= radius_m


def areas_meet(first: Area, second: Area) -> bool:
    """Return whether two areas overlap or touch."""
    if first.is_everywhere or second.is_everywhere:
        return True
    if first.centre is not None and second.centre is not None:
        return _centres_apart_m(first.centre, second.centre) <= first.radius_m + second.radius_m
    if first.centre is not None:
        return _circle_meets(first.centre, first.radius_m, second)
    if second.centre is not None:
        return _circle_meets(second.centre, second.radius_m, first)
    a, b = first.shape, second.shape
    return a is not None and b is not None and geometry.shapes_meet(a, b)
