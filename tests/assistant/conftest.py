"""Fixtures for the assistant's dialogue tests: the test town, an address on a bin round,
help articles, and a conversation driver.

The scripts run on the real understanding (assistant/nlu.py: MiniLM and the YAML examples).
"""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.knowledge.conftest import HELP_ARTICLES
from tests.waste.conftest import home, toronto
from townhall.assistant.nlu_index import example_index_clear
from townhall.assistant.replies import Reply
from townhall.assistant.services import message_receive
from townhall.knowledge.selectors import knowledge_index_clear
from townhall.knowledge.services import article_create
from townhall.places.models import Place

__all__ = ["home", "toronto"]


@pytest.fixture(autouse=True)
def _fresh_index() -> Iterator[None]:
    knowledge_index_clear()
    yield
    knowledge_index_clear()


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TOWNHALL_PUBLIC_URL = "https://council.example.org"


@pytest.fixture
def help_articles(db: None) -> list[Any]:
    return [article_create(publish=True, **fields) for fields in HELP_ARTICLES]


@pytest.fixture
def elm(town: Any) -> list[Place]:
    rows = [
        ("P1", "12 Elm Street", "02139", 42.3601, -71.0942),
        ("P2", "14 Elm Street", "02139", 42.3603, -71.0942),
        ("P3", "9 Maple Avenue", "02140", 42.3701, -71.1042),
    ]
    return [
        Place.objects.create(
            property_id=pid, address=a, postcode=pc, lat=lat, long=long, search_text=a.lower()
        )
        for pid, a, pc, lat, long in rows
    ]


class Chat:
    """One resident talking to the assistant through the service every transport calls."""

    def __init__(self, *, language: str = "en", citizen_id: int | None = None) -> None:
        self.key: str | None = None
        self.language = language
        self.citizen_id = citizen_id
        self.last: Reply | None = None

    def say(self, text: str, *, photos: tuple[str, ...] = ()) -> str:
        self.last = message_receive(
            conversation=self.key,
            text=text,
            language=self.language,
            citizen_id=self.citizen_id,
            photos=photos,
        )
        self.key = self.last.conversation
        return "\n".join(m.text for m in self.last.messages)

    @property
    def quick(self) -> list[str]:
        assert self.last is not None
        return [q.label for m in self.last.messages for q in m.quick_replies]

    @property
    def sources(self) -> list[tuple[str, str]]:
        assert self.last is not None
        return [(s.title, s.url) for m in self.last.messages for s in m.sources]


@pytest.fixture
def chat(db: None) -> Chat:
    return Chat()


# --- the understanding tests' fixtures: a small gazetteer and waste streams ---

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
