"""Waste zones' polygons (GeoJSON, [long, lat]) on the shared geometry (`core/geometry.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import orjson

from townhall.core import geometry


@lru_cache(maxsize=256)
def _area_of(text: bytes) -> geometry.BaseGeometry | None:
    try:
        shape = geometry.area_from_geojson(orjson.loads(text))
    except ValueError:
        return None
    return geometry.prepared(shape) if shape is not None else None


def zone_area(geometry_json: Mapping[str, Any] | None) -> geometry.BaseGeometry | None:
    """Return a zone's GeoJSON Polygon or MultiPolygon (or a Feature holding one) as a
    prepared shape, holes honoured; None for no geometry or a malformed one.

    Shapes are kept per process by content (building one costs far more than testing a
    point), so an edited zone is never tested against its old polygon.
    """
    if not geometry_json:
        return None
    try:
        text = orjson.dumps(geometry_json, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    return _area_of(text)


def geometry_contains(geometry_json: Mapping[str, Any] | None, *, lat: float, long: float) -> bool:
    """Return whether the point lies in a zone's polygon or on its edge (see `zone_area`)."""
    shape = zone_area(geometry_json)
    return shape is not None and geometry.contains(shape, lat=lat, long=long)
