"""Fixtures for the waste tests: the Toronto excerpt imported, and an address in a zone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from townhall.places.models import Place
from townhall.waste.services import waste_config_set, waste_import_toronto
from townhall.waste.toronto import toronto_read

DATA = Path(__file__).parent / "data"


def import_excerpt(year: int) -> Any:
    with (DATA / f"toronto-{year}-excerpt.csv").open(newline="") as handle:
        return waste_import_toronto(lines=list(toronto_read(handle)))


@pytest.fixture
def toronto(db: None) -> Any:
    waste_config_set(country="CA", subdivision="ON", timezone="America/Toronto")
    return import_excerpt(2024)


@pytest.fixture
def home(toronto: Any) -> Place:
    from townhall.waste.models import Zone, ZonePlace

    place = Place.objects.create(
        property_id="TO-1",
        address="100 Queen Street West",
        postcode="M5H 2N2",
        lat=43.6525,
        long=-79.3839,
        search_text="100 queen street west",
    )
    ZonePlace.objects.create(place=place, zone=Zone.objects.get(code="Wednesday1"))
    return place
