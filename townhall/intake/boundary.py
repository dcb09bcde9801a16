"""Reports placed outside the council's boundary are refused, saying who to contact.

Checked in the pipeline's validation, so the portal, Open311, the phone form and the hooks
all refuse the same way; a jurisdiction with no boundary takes reports anywhere. The
boundary's shape is built and prepared once per process and boundary (a check then costs
microseconds; see docs/benchmarks.md).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from townhall.cases.errors import InvalidCaseInput
from townhall.catalog.models import Jurisdiction, ServiceType
from townhall.catalog.selectors import jurisdiction_list
from townhall.core import geometry

# Per jurisdiction id: the row the shape was built from and the shape (None: no usable
# boundary). The catalogue hands out the same row objects until its cache expires or an
# edit clears it; a new row object with the same boundary keeps the shape.
_shapes: dict[int, tuple[Jurisdiction, geometry.BaseGeometry | None]] = {}


def boundary_cache_clear() -> None:
    """Forget the prepared boundaries this process holds."""
    _shapes.clear()


def _shape_of(jurisdiction: Jurisdiction) -> geometry.BaseGeometry | None:
    hit = _shapes.get(jurisdiction.pk)
    if hit is not None and (hit[0] is jurisdiction or hit[0].boundary == jurisdiction.boundary):
        _shapes[jurisdiction.pk] = (jurisdiction, hit[1])
        return hit[1]
    try:
        shape = geometry.area_from_geojson(jurisdiction.boundary)
    except ValueError:
        shape = None  # the admin form refuses these; a hand-edited row takes reports anywhere
    if shape is not None:
        geometry.prepared(shape)
    _shapes[jurisdiction.pk] = (jurisdiction, shape)
    return shape


def outside_message(jurisdiction: Jurisdiction) -> str:
    """Return what a resident reporting a place outside the jurisdiction is told."""
    text = jurisdiction.outside_message or _(
        "This place is outside %(name)s, so we cannot take the report; "
        "please report it to the council that covers it."
    ) % {"name": jurisdiction.name}
    url = jurisdiction.outside_url
    return f"{text} {url}" if url and url not in text else text


def boundary_refusal(*, jurisdiction_id: int, lat: float, long: float) -> str | None:
    """Return the message for a place outside the jurisdiction's boundary; None if the
    place is inside it (or on its edge) or the jurisdiction has no boundary."""
    jurisdiction = next((j for j in jurisdiction_list() if j.pk == jurisdiction_id), None)
    if jurisdiction is None or not jurisdiction.boundary:
        return None
    shape = _shape_of(jurisdiction)
    if shape is None or geometry.contains(shape, lat=lat, long=long):
        return None
    return outside_message(jurisdiction)


def boundary_check(*, service: ServiceType, lat: float | None, long: float | None) -> None:
    """Refuse a report whose place lies outside its service's jurisdiction.

    Raise InvalidCaseInput (field "location", saying who to contact instead) if the
    place is outside the boundary; a report with no point is not checked.
    """
    if lat is None or long is None or not (-90 <= lat <= 90 and -180 <= long <= 180):
        return  # nothing to check, or case_open refuses it with the reason
    refusal = boundary_refusal(jurisdiction_id=service.jurisdiction_id, lat=lat, long=long)
    if refusal is not None:
        raise InvalidCaseInput(
            _("This place is outside the area we cover."), details={"location": [refusal]}
        )
