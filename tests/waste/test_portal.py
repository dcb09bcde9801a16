"""The /bins/ pages through the test client."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from townhall.places.models import Place

pytestmark = pytest.mark.django_db


def test_the_search_page_finds_an_address(client: Client, home: Place) -> None:
    response = client.get(reverse("portal:bins"), {"q": "100 queen st w"})
    assert response.status_code == 200
    assert reverse("portal:bins-address", args=[home.pk]) in response.content.decode()


def test_an_empty_search_is_a_form_error(client: Client, town: Any) -> None:
    response = client.get(reverse("portal:bins"), {"q": ""})
    assert response.status_code == 400
    assert "Enter your address or postcode" in response.content.decode()
    assert client.get(reverse("portal:bins")).status_code == 200


def test_an_unknown_address_is_a_form_error(client: Client, town: Any, home: Place) -> None:
    response = client.get(reverse("portal:bins"), {"q": "77 zzzz qqqq"})
    assert response.status_code == 400
    assert "We could not find that address" in response.content.decode()


@time_machine.travel("2024-12-16 12:00Z", tick=False)
def test_the_address_page_shows_next_collections_and_the_month(
    client: Client, town: Any, home: Place
) -> None:
    response = client.get(reverse("portal:bins-address", args=[home.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Wednesday 18 December 2024" in page and "Changed day" in page
    assert "December 2024" in page and "Food and organics" in page
    assert (
        client.get(reverse("portal:bins-address", args=[home.pk]), {"month": "bad"}).status_code
        == 200
    )
    assert (
        "January 2025"
        in client.get(
            reverse("portal:bins-address", args=[home.pk]), {"month": "2025-01"}
        ).content.decode()
    )


@time_machine.travel("2024-12-16 12:00Z", tick=False)
def test_the_print_page_shows_twelve_months_in_a_few_queries(
    client: Client, town: Any, home: Place, django_assert_max_num_queries: Any
) -> None:
    client.get(reverse("portal:bins-print", args=[home.pk]))  # warm the session and caches
    with django_assert_max_num_queries(12):
        page = client.get(reverse("portal:bins-print", args=[home.pk])).content.decode()
    assert page.count("<table") == 12 and "th-bins-print" in page  # print styles: site.css
    assert "January 2025" in page and "November 2025" in page


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "2024-13"])
def test_a_far_or_broken_month_shows_this_month(
    client: Client, town: Any, home: Place, month: str
) -> None:
    response = client.get(reverse("portal:bins-address", args=[home.pk]), {"month": month})
    assert response.status_code == 200


@time_machine.travel("2024-12-16 12:00Z", tick=False)
def test_the_ical_link_is_a_valid_calendar(client: Client, town: Any, home: Place) -> None:
    response = client.get(reverse("portal:bins-ical", args=[home.pk]))
    assert response["Content-Type"].startswith("text/calendar")
    events = list(Calendar.from_ical(response.content).walk("VEVENT"))
    assert len(events) > 50


@pytest.mark.parametrize("name", ["portal:bins-address", "portal:bins-ical", "portal:bins-print"])
def test_an_unknown_place_is_404(client: Client, town: Any, name: str) -> None:
    assert client.get(reverse(name, args=[999999])).status_code == 404


def test_an_address_without_a_zone_says_so(client: Client, town: Any, toronto: Any) -> None:
    place = Place.objects.create(
        property_id="X", address="1 Far Away", lat=0, long=0, search_text="1 far away"
    )
    page = client.get(reverse("portal:bins-address", args=[place.pk])).content.decode()
    assert "We do not have a bin collection schedule" in page


@time_machine.travel("2024-12-16 12:00Z", tick=False)
def test_the_next_collections_read_as_a_spanish_date_in_spanish(
    client: Client, town: Any, home: Place
) -> None:
    client.cookies["django_language"] = "es"
    page = client.get(reverse("portal:bins-address", args=[home.pk])).content.decode()
    assert "miércoles 18 de diciembre de 2024" in page
    assert "miércoles 18 diciembre 2024" not in page
