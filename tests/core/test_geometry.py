"""The one geometry module: x is longitude, y is latitude, points always by keyword."""

from __future__ import annotations

import pytest

from townhall.core import geometry
from townhall.notify.geo import Area, areas_meet
from townhall.waste.geo import geometry_contains, zone_area

# A box one degree of latitude tall (0..1) and one of longitude wide (10..11): a point and
# its lat/long swap can never both be in it, so a mixed-up order gives the wrong answer.
BOX_GEOJSON = {
    "type": "Polygon",
    "coordinates": [[[10, 0], [11, 0], [11, 1], [10, 1], [10, 0]]],
}
BOX_LAT_LONG = [[0, 10], [0, 11], [1, 11], [1, 10]]
INSIDE = {"lat": 0.5, "long": 10.5}
SWAPPED = {"lat": 10.5, "long": 0.5}


def test_a_geojson_polygon_is_read_long_then_lat() -> None:
    shape = geometry.area_from_geojson(BOX_GEOJSON)
    assert shape is not None
    assert geometry.contains(shape, **INSIDE)
    assert not geometry.contains(shape, **SWAPPED)
    assert geometry.shape_box(shape) == geometry.Box(min_lat=0, max_lat=1, min_long=10, max_long=11)


def test_corners_written_lat_long_make_the_same_polygon() -> None:
    from_lat_long = geometry.polygon_from_lat_long(BOX_LAT_LONG)
    from_geojson = geometry.area_from_geojson(BOX_GEOJSON)
    assert from_geojson is not None and from_lat_long.equals(from_geojson)
    assert geometry.shape_to_geojson(from_lat_long)["coordinates"][0][0] == [10.0, 0.0]


def test_waste_zones_and_alert_areas_agree_on_the_order() -> None:
    # The zone is GeoJSON ([long, lat]); the alert area is drawn as [lat, long] corners.
    assert geometry_contains(BOX_GEOJSON, **INSIDE)
    assert not geometry_contains(BOX_GEOJSON, **SWAPPED)
    area = Area(polygon=tuple((float(a), float(b)) for a, b in BOX_LAT_LONG))
    assert areas_meet(area, Area(centre=(0.5, 10.5), radius_m=0))
    assert not areas_meet(area, Area(centre=(10.5, 0.5), radius_m=0))


def test_holes_multipolygons_and_features_are_honoured() -> None:
    ring = [[10, 0], [11, 0], [11, 1], [10, 1], [10, 0]]
    hole = [[10.4, 0.4], [10.6, 0.4], [10.6, 0.6], [10.4, 0.6], [10.4, 0.4]]
    with_hole = {"type": "Polygon", "coordinates": [ring, hole]}
    assert not geometry_contains(with_hole, **INSIDE)
    assert geometry_contains(with_hole, lat=0.2, long=10.2)
    far = [[20, 5], [21, 5], [21, 6], [20, 6], [20, 5]]
    multi = {"type": "MultiPolygon", "coordinates": [[far], [ring]]}
    assert geometry_contains(multi, **INSIDE)
    assert geometry_contains({"type": "Feature", "geometry": multi}, lat=5.5, long=20.5)
    assert not geometry_contains({"type": "Point", "coordinates": [10.5, 0.5]}, **INSIDE)
    assert not geometry_contains(None, **INSIDE)


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "Polygon", "coordinates": [[[10, 0], [11]]]},
        {"type": "Polygon", "coordinates": "nonsense"},
        {"type": "Polygon", "coordinates": [[[10, 0], [11, 0], [float("inf"), 1], [10, 0]]]},
    ],
)
def test_a_malformed_polygon_is_a_value_error_and_no_zone(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"malformed|finite"):
        geometry.area_from_geojson(bad)
    assert zone_area(bad) is None
    assert not geometry_contains(bad, **INSIDE)


def test_a_bow_tie_counts_its_two_lobes() -> None:
    # Corners crossing over (drawn by hand): both triangles are inside, as before.
    bow_tie = geometry.polygon_from_lat_long([[0, 0], [1, 1], [1, 0], [0, 1]])
    assert geometry.contains(bow_tie, lat=0.2, long=0.5)
    assert geometry.contains(bow_tie, lat=0.8, long=0.5)
    assert not geometry.contains(bow_tie, lat=0.5, long=0.2)


def test_distances_boxes_and_many_points() -> None:
    shape = geometry.polygon_from_lat_long([[42.359, -71.096], [42.359, -71.092],
                                            [42.361, -71.092], [42.361, -71.096]])  # fmt: skip
    assert geometry.distance_to_m(shape, lat=42.360, long=-71.094) == 0
    # 0.0015 degree of latitude north of the top edge: about 167 m.
    assert round(geometry.distance_to_m(shape, lat=42.3625, long=-71.094)) == 167
    assert (
        round(geometry.distance_m(lat1=42.36, long1=-71.0942, lat2=42.37, long2=-71.0942)) == 1112
    )
    box = geometry.box_around(lat=42.36, long=-71.09, radius_m=1000)
    assert box.holds(lat=42.3689, long=-71.09) and not box.holds(lat=42.3691, long=-71.09)
    assert geometry.contains_many(shape, lats=[42.36, 42.37, 42.359], longs=[-71.094] * 3) == [
        True,
        False,
        True,  # on the edge counts as inside
    ]
    assert geometry.contains_many(shape, lats=[], longs=[]) == []


def test_corners_that_make_no_polygon_are_refused() -> None:
    with pytest.raises(ValueError, match="three corners"):
        geometry.polygon_from_lat_long([[0, 0], [1, 1]])
    with pytest.raises(ValueError, match="three corners"):
        geometry.polygon_from_lat_long([[0, 0], [1, 1], [1]])
    # An alert area stored with such corners meets no circle (and does not crash the fan-out).
    broken = Area(polygon=((0.0, 0.0), (1.0, float("nan")), (1.0, 0.0)))
    assert not areas_meet(broken, Area(centre=(0.5, 0.1), radius_m=10))
