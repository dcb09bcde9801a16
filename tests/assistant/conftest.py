"""Fixtures for the assistant's understanding tests: a small gazetteer and waste streams."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from townhall.assistant.nlu_index import example_index_clear

GAZETTEER = """uprn,address,postcode,latitude,longitude
100,"12 Elm Street, Millbrook",MB1 2AA,42.3601,-71.0901
101,21 Elm Street,MB1 2AA,42.3605,-71.0905
102,4 Brook Road,MB2 3BB,42.3700,-71.1000
103,22 Maple Avenue,MB3 4CC,42.3800,-71.1100
"""


@pytest.fixture
def gazetteer(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "places.csv"
    path.write_text(GAZETTEER)
    call_command("places", "import", str(path), stdout=StringIO())


@pytest.fixture
def streams(db: Any) -> Iterator[None]:
    from townhall.assistant.entities import streams_cache_clear
    from townhall.waste.services import streams_ensure

    streams_ensure(["organics", "garbage", "recycling", "garden", "christmas_tree"])
    streams_cache_clear()
    yield
    streams_cache_clear()


@pytest.fixture
def fresh_index() -> Any:
    """The examples index rebuilt before and after (a test taught an example)."""
    example_index_clear()
    yield
    example_index_clear()
