"""The portal's missed-bin report is accepted only after the crews are done, on a day the
bin was collected at that address (the waste schedule decides)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client

from townhall.cases.models import Case
from townhall.places.models import Place

pytestmark = pytest.mark.django_db


@pytest.fixture
def organics_report(town: Any, settings: Any) -> str:
    """The test town's pothole service stands in for a missed organics bin service."""
    settings.TOWNHALL_MISSED_COLLECTION_SERVICES = {"pothole": "organics"}
    return "/report/pothole/"


def _post(client: Client, url: str, place: Place) -> Any:
    return client.post(
        url,
        {
            "description": "The green bin was not emptied",
            "attribute_size": "small",
            "lat": place.lat,
            "long": place.long,
            "address": place.address,
            "address_id": place.property_id,
        },
    )


@pytest.mark.parametrize(
    ("now", "accepted"),
    [
        (datetime(2024, 12, 18, 14, 0, tzinfo=UTC), False),  # collection day, crews still out
        (datetime(2024, 12, 18, 23, 30, tzinfo=UTC), True),  # after 18:00 in Toronto
        (datetime(2024, 12, 20, 14, 0, tzinfo=UTC), False),  # two days later
    ],
)
def test_a_missed_bin_report_waits_for_the_crews(
    client: Client, home: Place, organics_report: str, now: datetime, accepted: bool
) -> None:
    with time_machine.travel(now, tick=False):
        response = _post(client, organics_report, home)
    if accepted:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert Case.objects.count() == 1
    else:
        assert response.status_code == 400
        assert "govuk-error-summary" in response.content.decode()
        assert Case.objects.count() == 0


def test_an_address_the_gazetteer_does_not_know_is_accepted_for_staff(
    client: Client, home: Place, organics_report: str
) -> None:
    stranger = Place(property_id="", address="1 Nowhere Lane", lat=home.lat, long=home.long)
    with time_machine.travel(datetime(2024, 12, 20, 14, 0, tzinfo=UTC), tick=False):
        response = _post(client, organics_report, stranger)
    assert response.status_code == 302
