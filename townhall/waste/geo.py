"""Point in a GeoJSON Polygon or MultiPolygon (even-odd rule, holes honoured). Pure."""

from __future__ import annotations

from typing import Any


def _in_ring(x: float, y: float, ring: list[list[float]]) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def geometry_contains(geometry: dict[str, Any] | None, *, lat: float, long: float) -> bool:
    """Return whether the point lies in the geometry (a GeoJSON geometry or Feature)."""
    if not geometry:
        return False
    if geometry.get("type") == "Feature":
        return geometry_contains(geometry.get("geometry"), lat=lat, long=long)
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
            and _in_ring(long, lat, rings[0])
            and not any(_in_ring(long, lat, hole) for hole in rings[1:])
        ):
            return True
    return False
