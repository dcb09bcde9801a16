"""Abuse of the council's boundary: a malformed or huge GeoJSON value is refused with the
reason (never a KeyError, never seconds of CPU), and a row edited by hand past the admin's
check does not make every report fail."""

from __future__ import annotations

import time
from typing import Any

import pytest

from townhall.catalog.boundary import MAX_CORNERS, boundary_clean
from townhall.catalog.models import Jurisdiction
from townhall.catalog.selectors import catalog_cache_clear
from townhall.core.errors import ValidationFailed
from townhall.intake.boundary import boundary_cache_clear, boundary_check


@pytest.mark.parametrize(
    "value",
    [
        {"type": "Polygon"},
        {"type": "Polygon", "coordinates": None},
        {"type": "Polygon", "coordinates": {"a": 1}},
        {"type": "MultiPolygon", "coordinates": {"0": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}},
        {"type": "Feature", "geometry": {"type": "Polygon"}},
    ],
)
def test_a_boundary_without_coordinates_is_refused_not_a_500(value: object) -> None:
    with pytest.raises(ValidationFailed) as caught:
        boundary_clean(value)
    assert caught.value.details["boundary"]


def test_a_huge_boundary_is_refused_before_it_is_built() -> None:
    corners = MAX_CORNERS * 50
    ring = [[i * 1e-6, 0.0] for i in range(corners)] + [[0.0, 1.0], [0.0, 0.0]]
    started = time.perf_counter()
    with pytest.raises(ValidationFailed) as caught:
        boundary_clean({"type": "Polygon", "coordinates": [ring]})
    assert "Simplify" in caught.value.details["boundary"][0]
    assert time.perf_counter() - started < 0.5  # building the shape took ~1.5 s


@pytest.mark.django_db
def test_a_hand_edited_boundary_without_coordinates_takes_reports(pothole: Any) -> None:
    Jurisdiction.objects.filter(pk=pothole.jurisdiction_id).update(boundary={"type": "Polygon"})
    catalog_cache_clear()
    boundary_cache_clear()
    boundary_check(service=pothole, lat=51.5, long=-0.12)  # no KeyError: taken anywhere
