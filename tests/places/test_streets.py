"""The town's streets drawn from the gazetteer (the maps' layer when no tile server is set),
and the area the addresses cover (the demo's boundary)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from townhall.catalog.boundary import jurisdiction_boundary_set
from townhall.catalog.models import Jurisdiction
from townhall.core import geometry
from townhall.places.models import Place
from townhall.places.selectors import places_cache_clear, places_extent
from townhall.places.streets import street_lines, street_of, streets_geojson


@pytest.mark.parametrize(
    ("address", "found"),
    [
        ("12 Elm Street", ("Elm Street", 12)),
        ("12a Elm Street, Millbrook", ("Elm Street", 12)),
        ("Flat 2, 7 Crescent Gardens", ("Crescent Gardens", 7)),
        ("Station Approach", None),
        ("", None),
    ],
)
def test_the_street_and_number_of_an_address(address: str, found: Any) -> None:
    assert street_of(address) == found


def test_a_street_runs_down_the_middle_of_its_two_sides_in_number_order() -> None:
    rows = [
        # odd numbers on the north side (lat 1.0001), even on the south (0.9999)
        ("3 Elm Street", 1.0001, 0.002),
        ("1 Elm Street", 1.0001, 0.001),
        ("2 Elm Street", 0.9999, 0.001),
        ("4 Elm Street", 0.9999, 0.002),
        ("1 Lonely Lane", 5.0, 5.0),  # one address: no line
        ("The Old Mill", 2.0, 2.0),  # no number: no street
    ]
    [(name, points)] = street_lines(rows)
    assert name == "Elm Street"
    assert points == [pytest.approx((1.0, 0.001)), pytest.approx((1.0, 0.002))]


@pytest.fixture
def elm(db: None) -> list[Place]:
    places_cache_clear()
    return [
        Place.objects.create(
            property_id=f"E{n}",
            address=f"{n} Elm Street",
            lat=42.36 + (0.0001 if n % 2 else -0.0001),
            long=-71.09 + ((n + 1) // 2) * 0.0002,
            search_text=f"{n} elm street",
        )
        for n in range(1, 21)
    ]


def test_the_streets_layer_is_geojson_long_then_lat_simplified(elm: list[Place]) -> None:
    [feature] = streets_geojson()["features"]
    assert feature["properties"] == {"name": "Elm Street"}
    line = feature["geometry"]
    assert line["type"] == "LineString"
    # A straight street: ten points in the road simplified to its two ends, [long, lat].
    assert line["coordinates"] == [
        [pytest.approx(-71.0898), pytest.approx(42.36)],
        [pytest.approx(-71.088), pytest.approx(42.36)],
    ]


def test_the_map_layer_shows_streets_and_the_boundary_but_no_address(
    client: Client, elm: list[Place], town: Any
) -> None:
    jurisdiction_boundary_set(
        jurisdiction=Jurisdiction.objects.get(slug="testville"),
        boundary=places_extent(margin_m=100),
    )
    response = client.get("/map/streets.geojson")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert "public" in response["Cache-Control"]
    features = response.json()["features"]
    assert [(f["properties"]["kind"], f["properties"]["name"]) for f in features] == [
        ("street", "Elm Street"),
        ("boundary", "Testville Council"),
    ]
    # Street names only: no house number, property id or postcode leaves the gazetteer.
    text = response.content.decode()
    assert "12 Elm" not in text and "E12" not in text
    assert client.post("/map/streets.geojson").status_code == 405


def test_the_extent_holds_every_address_with_its_margin(elm: list[Place]) -> None:
    extent = places_extent(margin_m=200)
    assert extent is not None and extent["type"] == "Polygon"
    shape = geometry.area_from_geojson(extent)
    assert shape is not None
    assert all(geometry.contains(shape, lat=p.lat, long=p.long) for p in elm)
    # 150 m north of the street: in; 300 m north: out.
    assert geometry.contains(shape, lat=42.36 + 150 / 111_195, long=-71.088)
    assert not geometry.contains(shape, lat=42.36 + 300 / 111_195, long=-71.088)


def test_an_empty_gazetteer_has_no_extent_and_no_streets(db: None) -> None:
    places_cache_clear()
    assert places_extent() is None
    assert streets_geojson() == {"type": "FeatureCollection", "features": []}


def test_the_maps_use_the_streets_layer_and_no_tile_server_by_default(
    client: Client, pothole: Any, settings: Any
) -> None:
    page = client.get("/report/pothole/").content.decode()
    assert 'data-tiles=""' in page and 'data-streets="/map/streets.geojson"' in page
    settings.TOWNHALL_MAP_TILE_URL = "https://tiles.council.example.org/{z}/{x}/{y}.png"
    page = client.get("/report/pothole/").content.decode()
    # a tile server when set, the streets still named for when its tiles fail
    assert 'data-tiles="https://tiles.council.example.org/{z}/{x}/{y}.png"' in page
    assert 'data-streets="/map/streets.geojson"' in page
