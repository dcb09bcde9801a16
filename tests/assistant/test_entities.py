"""Entities: dates, case references, addresses from the gazetteer, waste streams, services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import override_settings

from townhall.assistant.entities import (
    address_find,
    address_match,
    date_parse,
    entities_extract,
    reference_find,
    reference_like,
    service_match,
    stream_match,
)
from townhall.places.selectors import place_search

WEDNESDAY = dt.date(2026, 12, 2)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("today", "en", "2026-12-02"),
        ("tomorrow please", "en", "2026-12-03"),
        ("the day after tomorrow", "en", "2026-12-04"),
        ("yesterday", "en", "2026-12-01"),
        ("on Friday", "en", "2026-12-04"),
        ("wednesday", "en", "2026-12-02"),
        ("next Wednesday", "en", "2026-12-09"),
        ("next monday", "en", "2026-12-07"),
        ("12 March", "en", "2027-03-12"),
        ("March 12th", "en", "2027-03-12"),
        ("the 24th of December", "en", "2026-12-24"),
        ("in 3 days", "en", "2026-12-05"),
        ("2026-12-31", "en", "2026-12-31"),
        ("12/24", "en", "2026-12-24"),
        ("hoy", "es", "2026-12-02"),
        ("mañana", "es", "2026-12-03"),
        ("esta mañana", "es", "2026-12-02"),
        ("mañana por la mañana", "es", "2026-12-03"),
        ("pasado mañana", "es", "2026-12-04"),
        ("el lunes", "es", "2026-12-07"),
        ("el próximo miércoles", "es", "2026-12-09"),
        ("12 de marzo", "es", "2027-03-12"),
        ("24/12", "es", "2026-12-24"),
    ],
)
def test_dates_in_english_and_spanish(text: str, language: str, expected: str) -> None:
    assert date_parse(text, language=language, today=WEDNESDAY) == dt.date.fromisoformat(expected)


@pytest.mark.parametrize(
    "text",
    [
        "12 Elm Street",
        "TH-26-000123",
        "no date here",
        "31 February",
        "saco la basura por la mañana",
    ],
)
def test_no_date_where_there_is_none(text: str) -> None:
    assert date_parse(text, today=WEDNESDAY) is None


@override_settings(TOWNHALL_REFERENCE_PREFIX="TH")
def test_references_are_found_and_normalised(db: Any) -> None:
    assert reference_find("what's up with TH-26-000123?") == "TH-26-000123"
    assert reference_find("th 26 123") == "TH-26-000123"
    assert reference_find("ref TH26004211 please") == "TH-26-004211"
    assert reference_find("XTH-26-000123") is None
    assert reference_find("my parcel AB-26-000123") is None
    assert reference_like("my reference is AB-26-000123") == "AB-26-000123"
    assert reference_like("TH-26-000123") is None
    assert entities_extract("AB-26-000123")["reference_invalid"] == "AB-26-000123"


def test_an_address_in_a_sentence_is_found_in_the_gazetteer(gazetteer: None) -> None:
    twelve = place_search("12 Elm Street")[0].place
    found = address_find("when is bin day for 12 elm st please")
    assert found is not None
    assert (found["place_id"], found["label"]) == (twelve.pk, twelve.address)
    assert address_match("12 elm stret")[0]["place_id"] == twelve.pk
    spanish = address_find("¿qué día recogen la basura en la calle Elm 12?")
    assert spanish is not None and spanish["place_id"] == twelve.pk


def test_an_unknown_address_is_reported_not_guessed(gazetteer: None) -> None:
    found = address_find("bins at 99 Nowhere Road")
    assert found == {"text": "99 Nowhere Road", "place_id": None, "label": "", "score": 0.0}
    assert address_find("when is bin day") is None


def test_waste_streams_in_both_languages(streams: None) -> None:
    assert stream_match("is it the recycling this week") == "recycling"
    assert stream_match("when is the food waste collected") == "organics"
    assert stream_match("christmas tree pickup") == "christmas_tree"
    assert stream_match("¿cuándo recogen los restos de comida?", language="es") == "organics"
    assert stream_match("la basura", language="es") == "garbage"
    assert stream_match("my sofa") is None  # bulky items are not a stream this council collects
    assert stream_match("hello") is None


def test_services_from_the_catalogue(pothole: Any) -> None:
    found = service_match("there's a pothole outside my house")
    assert found is not None and found["code"] == "pothole"
    extracted = entities_extract("a big pothole on Elm Street", skill="report_issue")
    assert extracted["service"]["code"] == "pothole"
    assert "service" not in entities_extract("a big pothole on Elm Street", skill="faq")


def test_everything_at_once(gazetteer: None, streams: None) -> None:
    found = entities_extract(
        "was the recycling at 4 Brook Road collected tomorrow? ref TH-26-000042",
        today=WEDNESDAY,
    )
    assert found["reference"] == "TH-26-000042"
    assert found["date"] == "2026-12-03"
    assert found["stream"] == "recycling"
    assert found["address"]["label"] == "4 Brook Road"
