"""The one address search of bin days, alerts around an address and notices near it
(portal/forms.py, place_search_from): same answers on every page that uses it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from townhall.places.models import Place

PAGES = ["/bins/", "/alerts/", "/notices/"]


@pytest.fixture
def place(db: None) -> Place:
    return Place.objects.create(
        property_id="PS-1",
        address="12 Elm Street",
        postcode="02118",
        lat=42.34,
        long=-71.07,
        search_text="12 elm street",
    )


@pytest.mark.parametrize("url", PAGES)
def test_a_match_is_listed(url: str, place: Place, client: Client) -> None:
    response = client.get(url, {"q": "12 elm stret"})
    assert response.status_code == 200
    assert "12 Elm Street" in response.content.decode()


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("", "Enter your address or postcode"),
        ("99 Nowhere Road", "We could not find that address. Check it and try again."),
        ("x" * 201, "An address is at most 200 characters"),
    ],
)
def test_bad_searches_answer_400_with_the_error(
    url: str, q: str, message: str, place: Place, client: Client
) -> None:
    response = client.get(url, {"q": q})
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize("url", PAGES)
def test_no_search_is_no_error(url: str, place: Any, client: Client) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert "There is a problem" not in response.content.decode()
