"""Fixtures shared by the portal's tests."""

from __future__ import annotations

from typing import Any

import pytest

from townhall.places.models import Place


@pytest.fixture
def bin_home(town: Any, settings: Any) -> Place:
    """An address in a Toronto waste zone (organics on Wednesdays); the test town's pothole
    service stands in for a missed organics bin service."""
    from tests.waste.conftest import import_excerpt
    from townhall.waste.models import Zone, ZonePlace
    from townhall.waste.services import waste_config_set

    settings.TOWNHALL_MISSED_COLLECTION_SERVICES = {"pothole": "organics"}
    waste_config_set(country="CA", subdivision="ON", timezone="America/Toronto")
    import_excerpt(2024)
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
