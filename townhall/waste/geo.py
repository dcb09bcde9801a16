"""Waste zones' polygons (GeoJSON, [long, lat]) on the shared geometry (`core/geometry.py`)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from typing import Any

from townhall.core import geometry

# Shapes built from zones' GeoJSON, kept per process and found by content (building one
# costs far more than testing a point; comparing two GeoJSON values is cheap), so an
# edited zone is never tested against its old polygon. A council has a few dozen zones.
_MAX_KEPT = 256
_kept: list[tuple[dict[str, Any], geometry.BaseGeometry | None]] = []
_lock = threading.Lock()


def _build(geometry_json: Mapping[str, Any]) -> geometry.BaseGeometry | None:
    try:
        shape = geometry.area_from_geojson(geometry_json)
    except ValueError:
        return None
    return geometry.prepared(shape) if shape is not None else None


def zone_area(geometry_json: Mapping[str, Any] | None) -> geometry.BaseGeometry | None:
    """Return a zone's GeoJSON Polygon or MultiPolygon (or a Feature holding one) as a
    prepared shape, holes honoured; None for no geometry or a malformed one."""
    if not geometry_json:
        return None
    with _lock:
        for kept, shape in _kept:
            if kept == geometry_json:
                return shape
    shape = _build(geometry_json)
    with _lock:
        if len(_kept) >= _MAX_KEPT:
            _kept.clear()
        _kept.append((copy.deepcopy(dict(geometry_json)), shape))
    return shape


def geometry_contains(geometry_json: Mapping[str, Any] | None, *, lat: float, long: float) -> bool:
    """Return whether the point lies in a zone's polygon or on its edge (see `zone_area`)."""
    shape = zone_area(geometry_json)
    return shape is not None and geometry.contains(shape, lat=lat, long=long)
