"""Fixtures shared by the notification tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.waste.conftest import import_excerpt
from townhall.notify.channels.registry import channel_adapters_reset
from townhall.notify.channels.sms import FakeSmsProvider
from townhall.places.models import Place
from townhall.waste.models import Zone, ZonePlace
from townhall.waste.services import waste_config_set


@pytest.fixture
def sms_provider(settings: Any) -> Iterator[FakeSmsProvider]:
    provider = FakeSmsProvider()
    settings.TOWNHALL_CHANNELS = {
        "sms": {
            "BACKEND": "townhall.notify.channels.sms.HttpSmsGateway",
            "OPTIONS": {
                "account_sid": "AC123",
                "auth_token": "secret",
                "from_number": "+16175550100",
                "transport": provider,
            },
        }
    }
    channel_adapters_reset()
    yield provider
    channel_adapters_reset()


@pytest.fixture
def home(db: None) -> Place:
    """An address in a Toronto collection zone (the waste tests' excerpt)."""
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
