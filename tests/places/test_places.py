"""The address gazetteer: folding, importing from CSV, fuzzy search, nearest address."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from townhall.places.models import Place
from townhall.places.selectors import distance_m, place_nearest, place_search
from townhall.places.text import address_fold, house_number

CSV = """uprn,address,postcode,latitude,longitude
100,"12 Elm Street, Millbrook",mb1 2aa,42.3601,-71.0901
101,21 Elm Street,MB1 2AA,42.3605,-71.0905
102,12 Oak Road,MB2 3BB,42.3700,-71.1000
103,1 Station Approach,MB3 4CC,42.3800,-71.1100
104,"Flat 2, 7 Crescent Gardens",MB3 4CD,42.3810,-71.1110
"""


def run(*args: str) -> str:
    out = StringIO()
    call_command("places", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def gazetteer(db: Any, tmp_path: Path) -> Path:
    path = tmp_path / "places.csv"
    path.write_text(CSV)
    assert "5 created, 0 updated, 0 unchanged, 0 rejected" in run("import", str(path))
    return path


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("12, Elm St.", "12 elm street"),
        ("12 ELM STREET", "12 elm street"),
        ("3 Rue de l'Église", "3 rue de l eglise"),
        ("5 N Main Ave", "5 north main avenue"),
        ("", ""),
    ],
)
def test_addresses_fold_alike(text: str, folded: str) -> None:
    assert address_fold(text) == folded


def test_house_numbers() -> None:
    assert house_number("12a elm street") == "12a"
    assert house_number("elm street") is None


def test_import_keeps_what_it_reads(gazetteer: Path) -> None:
    place = Place.objects.get(property_id="100")
    assert (place.address, place.postcode, place.lat, place.long) == (
        "12 Elm Street, Millbrook",
        "MB1 2AA",
        42.3601,
        -71.0901,
    )
    assert place.search_text == "12 elm street millbrook"


def test_importing_again_changes_nothing_and_updates_by_property_id(
    gazetteer: Path, tmp_path: Path
) -> None:
    assert "0 created, 0 updated, 5 unchanged" in run("import", str(gazetteer))
    moved = tmp_path / "moved.csv"
    moved.write_text("uprn,address,postcode,lat,long\n100,12 Elm Street,MB1 2AA,42.3602,-71.0902\n")
    assert "0 created, 1 updated, 0 unchanged" in run("import", str(moved))
    assert Place.objects.get(property_id="100").lat == 42.3602
    assert Place.objects.count() == 5


def test_bad_rows_are_listed_with_their_line_and_skipped(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "property_id,address,zip,lat,long\n"
        "1,1 Good Street,,42.0,-71.0\n"
        ",2 No Id Street,,42.0,-71.0\n"
        "3,,,42.0,-71.0\n"
        "4,4 Far Street,,142.0,-71.0\n"
        "5,5 Word Street,,north,-71.0\n"
        "6,6 Nan Street,,nan,-71.0\n"
    )
    out = run("import", str(path))
    assert "1 created, 0 updated, 0 unchanged, 5 rejected" in out
    for line in (
        "line 3: no property id",
        "line 4: no address",
        "line 5: latitude must be within",
        "line 6: latitude and longitude must be numbers",
        "line 7: latitude must be within",
    ):
        assert line in out
    assert list(Place.objects.values_list("property_id", flat=True)) == ["1"]


def test_a_file_without_the_needed_columns_is_a_clear_error(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("name,town\nx,y\n")
    with pytest.raises(CommandError, match="no column for property_id"):
        run("import", str(path))
    with pytest.raises(CommandError, match="Cannot import"):
        run("import", str(tmp_path / "missing.csv"))


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("12 elm st", "100"),
        ("12 Elm Stret", "100"),  # a slip of the keyboard
        ("21 elm", "101"),
        ("12 oak rd", "102"),
        ("station approach", "103"),
        ("7 crescent gdns", "104"),
        ("mb3 4cc", "103"),  # a postcode alone
    ],
)
def test_search_forgives_abbreviations_and_slips(gazetteer: Path, query: str, first: str) -> None:
    matches = place_search(query)
    assert matches, query
    assert matches[0].place.property_id == first


def test_a_house_number_is_never_swapped(gazetteer: Path) -> None:
    assert [m.place.property_id for m in place_search("12 elm street")] == ["100"]
    assert place_search("99 elm street") == []
    assert place_search("") == []
    assert place_search("zzzz qqqq") == []


def test_the_nearest_address_to_a_map_point(gazetteer: Path) -> None:
    nearest = place_nearest(42.36012, -71.09012)
    assert nearest is not None and nearest.property_id == "100"
    assert place_nearest(42.0, -70.0) is None
    assert distance_m(42.3601, -71.0901, 42.3605, -71.0905) == pytest.approx(55.6, abs=1)


def test_the_command_searches_and_finds_the_nearest(gazetteer: Path) -> None:
    assert "100" in run("search", "12", "elm", "st")
    assert "Station Approach" in run("nearest", "42.38", "-71.11")
    with pytest.raises(CommandError, match="No address matches"):
        run("search", "nowhere", "at", "all")
