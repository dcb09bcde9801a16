"""A jurisdiction's boundary: the area whose reports it takes (GeoJSON, [long, lat])."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from townhall.catalog.models import Jurisdiction
from townhall.catalog.selectors import catalog_cache_clear
from townhall.core import geometry
from townhall.core.errors import ValidationFailed

# A council's outline drawn by hand or simplified from its survey: enough for the largest
# county at street precision, and it keeps one JSON value a sane size.
MAX_CORNERS = 20_000


def _raw_corners(kind: object, coordinates: object) -> int:
    """Count the corners as given, before any shape is built (a huge list is refused
    without spending seconds building it); 0 for coordinates that are not lists."""
    if not isinstance(coordinates, list):
        return 0
    polygons = coordinates if kind == "MultiPolygon" else [coordinates]
    return sum(
        len(ring)
        for polygon in polygons
        if isinstance(polygon, list)
        for ring in polygon
        if isinstance(ring, list)
    )


def boundary_clean(value: object) -> dict[str, Any] | None:
    """Return the boundary as a GeoJSON geometry (a Feature is unwrapped); None if empty.

    Raise ValidationFailed (field "boundary") unless it is a Polygon or MultiPolygon of
    finite longitudes within ±180 and latitudes within ±90, enclosing some area.
    """
    if value in (None, "", {}):
        return None
    if isinstance(value, Mapping) and value.get("type") == "Feature":
        value = value.get("geometry")
    problem = None
    shape = None
    if not isinstance(value, Mapping) or value.get("type") not in geometry.AREA_TYPES:
        problem = "Give a GeoJSON Polygon or MultiPolygon."
    elif not isinstance(value.get("coordinates"), list):
        problem = "Give the boundary's coordinates: a list of rings of [longitude, latitude]."
    elif _raw_corners(value["type"], value["coordinates"]) > MAX_CORNERS:
        problem = f"Simplify the boundary to at most {MAX_CORNERS:,} corners."
    else:
        try:
            shape = geometry.area_from_geojson(value)
        except ValueError as exc:
            problem = f"{exc} Each corner is [longitude, latitude]."
    if shape is not None:
        box = geometry.shape_box(shape)
        if not (
            -90 <= box.min_lat <= box.max_lat <= 90 and -180 <= box.min_long <= box.max_long <= 180
        ):
            problem = (
                "Corners are [longitude, latitude]: longitude within ±180, latitude within ±90."
            )
        elif shape.is_empty or shape.area == 0:
            problem = "The boundary encloses no area."
        elif geometry.corner_count(shape) > MAX_CORNERS:
            problem = f"Simplify the boundary to at most {MAX_CORNERS:,} corners."
    if problem:
        raise ValidationFailed("The boundary is not valid.", details={"boundary": [problem]})
    assert isinstance(value, Mapping)
    return {"type": value["type"], "coordinates": value["coordinates"]}


def outside_url_clean(value: str) -> str:
    """Return the web address residents are sent to for places outside the boundary.

    Raise ValidationFailed (field "outside_url") unless it is empty or an http(s) address.
    """
    url = value.strip()
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise ValidationFailed(
                "The address is not valid.",
                details={"outside_url": ["Give a web address starting with https://."]},
            ) from None
    return url


def jurisdiction_boundary_set(
    *,
    jurisdiction: Jurisdiction,
    boundary: object,
    outside_message: str | None = None,
    outside_url: str | None = None,
) -> Jurisdiction:
    """Set (or with None, remove) the area whose reports the jurisdiction takes, and
    optionally what residents reporting outside it are told.

    Raise ValidationFailed (nothing changed) if the boundary is not a valid GeoJSON
    (Multi)Polygon or the address is not a web address.
    """
    clean = boundary_clean(boundary)
    url = outside_url_clean(outside_url) if outside_url is not None else None
    jurisdiction.boundary = clean
    fields = ["boundary", "updated_at"]
    if outside_message is not None:
        jurisdiction.outside_message = outside_message.strip()[:300]
        fields.append("outside_message")
    if url is not None:
        jurisdiction.outside_url = url
        fields.append("outside_url")
    jurisdiction.save(update_fields=fields)
    catalog_cache_clear()
    return jurisdiction
