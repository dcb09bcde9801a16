"""A missed bin is refused at the address step, with the next collection, before the
resident types the rest; the post is still refused (the same waste rule decides both)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client

from townhall.cases.models import Case
from townhall.places.models import Place

pytestmark = pytest.mark.django_db
URL = "/report/pothole/"
CREWS_OUT = datetime(2024, 12, 18, 14, 0, tzinfo=UTC)  # a collection day, before 18:00 Toronto
CREWS_DONE = datetime(2024, 12, 18, 23, 30, tzinfo=UTC)
TWO_DAYS_LATER = datetime(2024, 12, 20, 14, 0, tzinfo=UTC)


def page(response: Any) -> str:
    return " ".join(response.content.decode().split())


def test_choosing_the_address_before_the_crews_are_done_refuses_at_once(
    client: Client, bin_home: Place
) -> None:
    with time_machine.travel(CREWS_OUT, tick=False):
        response = client.get(URL, {"place": bin_home.pk})
    text = page(response)
    assert response.status_code == 200
    assert "You cannot report this missed bin yet" in text
    assert "The crews collect until 18:00 today. Please report it after that." in text
    assert "The next Food and organics collection at this address is on" in text
    assert "<strong>Wednesday 18 December 2024</strong>" in text  # today, after 18:00
    assert 'name="description"' not in text  # nothing more to type
    assert f'href="/bins/{bin_home.pk}/"' in text


def test_an_address_not_due_says_when_the_bin_is_next_collected(
    client: Client, bin_home: Place
) -> None:
    with time_machine.travel(TWO_DAYS_LATER, tick=False):
        text = page(client.get(URL, {"place": bin_home.pk}))
    assert "This bin was not due to be collected today or yesterday at this address." in text
    # Christmas Day moves the Wednesday collection to the Thursday
    assert "<strong>Thursday 26 December 2024</strong>" in text
    assert 'name="description"' not in text


def test_a_typed_address_and_a_map_point_are_refused_the_same_way(
    client: Client, bin_home: Place
) -> None:
    with time_machine.travel(CREWS_OUT, tick=False):
        typed = page(client.get(URL, {"address": "100 Queen Street West"}))
        pinned = page(client.get(URL, {"lat": bin_home.lat, "long": bin_home.long}))
    assert "You cannot report this missed bin yet" in typed
    assert "You cannot report this missed bin yet" in pinned


def test_once_the_crews_are_done_the_form_is_shown(client: Client, bin_home: Place) -> None:
    with time_machine.travel(CREWS_DONE, tick=False):
        text = page(client.get(URL, {"place": bin_home.pk}))
    assert "You cannot report this missed bin yet" not in text
    assert 'name="description"' in text


def test_the_post_is_still_refused_with_nothing_written(client: Client, bin_home: Place) -> None:
    with time_machine.travel(CREWS_OUT, tick=False):
        response = client.post(
            URL,
            {
                "description": "The green bin was not emptied",
                "attribute_size": "small",
                "address": bin_home.address,
                "address_id": bin_home.property_id,
            },
        )
    assert response.status_code == 400
    assert Case.objects.count() == 0


def test_other_services_and_unknown_addresses_go_straight_to_the_form(
    client: Client, bin_home: Place, settings: Any
) -> None:
    with time_machine.travel(CREWS_OUT, tick=False):
        words = page(client.get(URL, {"use_words": "1", "address": "behind the library"}))
        settings.TOWNHALL_MISSED_COLLECTION_SERVICES = {}
        other = page(client.get(URL, {"place": bin_home.pk}))
    assert 'name="description"' in words
    assert 'name="description"' in other
