"""Town-scale geometry on shapely, in ONE coordinate order: x is longitude, y is latitude.

That is GeoJSON's order ([long, lat]). Points are always passed by keyword (`lat=`,
`long=`), never as a bare pair, so the order cannot be mixed up at a call site; the one
way in for corners written [lat, long] (as Leaflet and the alert areas store them) is
`polygon_from_lat_long`.

Distances in metres use an equirectangular projection around the place asked about,
accurate to well under a metre over the few kilometres of a town; great-circle distance
(`distance_m`) for two points anywhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

EARTH_RADIUS_M = 6_371_000.0
AREA_TYPES = frozenset({"Polygon", "MultiPolygon"})

__all__ = [
    "EARTH_RADIUS_M",
    "BaseGeometry",
    "Box",
    "area_from_geojson",
    "box_around",
    "contains",
    "contains_many",
    "corner_count",
    "distance_m",
    "distance_to_m",
    "hull_around",
    "line_through",
    "point",
    "polygon_from_lat_long",
    "prepared",
    "shape_box",
    "shape_to_geojson",
    "shapes_meet",
]


@dataclass(frozen=True)
class Box:
    """A bounding box in degrees."""

    min_lat: float
    max_lat: float
    min_long: float
    max_long: float

    def holds(self, *, lat: float, long: float) -> bool:
        """Return whether the point lies in the box (edges included)."""
        return self.min_lat <= lat <= self.max_lat and self.min_long <= long <= self.max_long


def point(*, lat: float, long: float) -> Point:
    """Return the point as a shape (x = long, y = lat)."""
    return Point(long, lat)


def _finite(values: Sequence[float]) -> bool:
    return all(math.isfinite(v) for v in values)


def _valid(geometry: BaseGeometry) -> BaseGeometry:
    # A self-crossing ring (a bow tie drawn by hand) becomes the parts it encloses: the
    # even-odd reading residents and the old code gave it.
    return geometry if geometry.is_valid else shapely.make_valid(geometry)


def line_through(*, lats: Sequence[float], longs: Sequence[float]) -> BaseGeometry:
    """Return the line through the points in order (two or more)."""
    return LineString(list(zip(longs, lats, strict=True)))


def polygon_from_lat_long(corners: Sequence[Sequence[float]]) -> BaseGeometry:
    """Return the polygon whose corners are written [lat, long] (Leaflet's order).

    Raise ValueError for fewer than three corners, a corner that is not a pair of numbers
    or a coordinate that is not finite.
    """
    ring = [(float(c[1]), float(c[0])) for c in corners if len(c) == 2]
    if len(ring) != len(corners) or len(ring) < 3 or not all(_finite(p) for p in ring):
        raise ValueError("A polygon needs at least three corners, each [lat, long] numbers.")
    return _valid(Polygon(ring))


def area_from_geojson(geometry: Mapping[str, Any] | None) -> BaseGeometry | None:
    """Return the area of a GeoJSON Polygon or MultiPolygon (or a Feature holding one);
    None for anything else. Holes are honoured.

    Raise ValueError for a Polygon or MultiPolygon whose coordinates are malformed.
    """
    if not geometry:
        return None
    if geometry.get("type") == "Feature":
        inner = geometry.get("geometry")
        return area_from_geojson(inner if isinstance(inner, Mapping) else None)
    if geometry.get("type") not in AREA_TYPES:
        return None
    try:
        found = shape(geometry)
    except (
        TypeError,
        KeyError,
        ValueError,
        IndexError,
        AttributeError,
        shapely.errors.ShapelyError,
    ) as exc:
        raise ValueError("The polygon's coordinates are malformed.") from exc
    coords = shapely.get_coordinates(found)
    if not np.isfinite(coords).all():
        raise ValueError("The polygon's coordinates must be finite numbers.")
    return _valid(found)


def shape_to_geojson(geometry: BaseGeometry) -> dict[str, Any]:
    """Return the shape as a GeoJSON geometry (plain lists, [long, lat] order)."""
    data: dict[str, Any] = _lists(mapping(geometry))
    return data


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return value


def prepared(geometry: BaseGeometry) -> BaseGeometry:
    """Return the shape prepared for many point tests (in place; the same object)."""
    shapely.prepare(geometry)
    return geometry


def contains(geometry: BaseGeometry, *, lat: float, long: float) -> bool:
    """Return whether the point lies in the shape or on its edge."""
    return bool(shapely.intersects_xy(geometry, long, lat))


def contains_many(
    geometry: BaseGeometry, *, lats: Sequence[float], longs: Sequence[float]
) -> list[bool]:
    """Return, for each point, whether it lies in the shape or on its edge (vectorised)."""
    if not lats:
        return []
    prepared(geometry)
    found = shapely.intersects_xy(geometry, np.asarray(longs), np.asarray(lats))
    return [bool(v) for v in found]


def corner_count(geometry: BaseGeometry) -> int:
    """Return how many corners (coordinate pairs) the shape is drawn with."""
    return int(shapely.get_num_coordinates(geometry))


def shape_box(geometry: BaseGeometry) -> Box:
    """Return the shape's bounding box."""
    min_long, min_lat, max_long, max_lat = geometry.bounds
    return Box(min_lat=min_lat, max_lat=max_lat, min_long=min_long, max_long=max_long)


def box_around(*, lat: float, long: float, radius_m: float) -> Box:
    """Return the box holding every point within `radius_m` metres of the point."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlong = dlat / max(math.cos(math.radians(lat)), 1e-6)
    return Box(min_lat=lat - dlat, max_lat=lat + dlat, min_long=long - dlong, max_long=long + dlong)


def distance_m(*, lat1: float, long1: float, lat2: float, long2: float) -> float:
    """Return the great-circle distance between two points in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(long2 - long1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _metres_around(geometry: BaseGeometry, *, lat: float, long: float) -> BaseGeometry:
    k = math.cos(math.radians(lat))
    scale = np.array([math.radians(1) * EARTH_RADIUS_M * k, math.radians(1) * EARTH_RADIUS_M])
    origin = np.array([long, lat])
    return shapely.transform(geometry, lambda xy: (xy - origin) * scale)


def _degrees_around(geometry: BaseGeometry, *, lat: float, long: float) -> BaseGeometry:
    k = math.cos(math.radians(lat))
    scale = np.array([math.radians(1) * EARTH_RADIUS_M * k, math.radians(1) * EARTH_RADIUS_M])
    origin = np.array([long, lat])
    return shapely.transform(geometry, lambda xy: xy / scale + origin)


def hull_around(
    *, lats: Sequence[float], longs: Sequence[float], margin_m: float
) -> BaseGeometry | None:
    """Return the smallest convex area holding every point, widened by `margin_m` metres
    (rounded corners); None for no points."""
    if not lats:
        return None
    lat0, long0 = float(np.mean(lats)), float(np.mean(longs))
    points = shapely.multipoints(np.column_stack([np.asarray(longs), np.asarray(lats)]))
    hull = _metres_around(points, lat=lat0, long=long0).convex_hull.buffer(margin_m, quad_segs=4)
    return _degrees_around(hull, lat=lat0, long=long0)


def distance_to_m(geometry: BaseGeometry, *, lat: float, long: float) -> float:
    """Return how far the point is from the shape in metres (0 inside or on its edge)."""
    if contains(geometry, lat=lat, long=long):
        return 0.0
    return float(_metres_around(geometry, lat=lat, long=long).distance(Point(0.0, 0.0)))


def shapes_meet(first: BaseGeometry, second: BaseGeometry) -> bool:
    """Return whether two shapes overlap or touch."""
    return bool(first.intersects(second))
