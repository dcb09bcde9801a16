"""Fixtures for the assistant's dialogue tests: the test town, an address on a bin round,
help articles, and a conversation driver.

The understanding module (assistant/nlu.py) is written by another piece of this work; until
it is in, `understand` is its skeleton (everything out of scope), and these tests put a
small keyword stand-in in its place. Once the real one is in, the same scripts run on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.knowledge.conftest import HELP_ARTICLES
from tests.waste.conftest import home, toronto
from townhall.assistant import nlu
from townhall.assistant.nlu import Candidate, Understanding
from townhall.assistant.replies import Reply
from townhall.assistant.services import message_receive
from townhall.knowledge.selectors import knowledge_index_clear
from townhall.knowledge.services import article_create
from townhall.places.models import Place

__all__ = ["home", "toronto"]

# (pattern, skill) in order; the first that matches wins.
KEYWORDS = [
    (r"\b(parking)\b", "ambiguous:faq,permit_finder"),
    (r"\b(hello|hi|hola|buenos dias)\b", "greeting"),
    (r"\b(person|human|agent|persona|someone)\b", "human_handoff"),
    (r"\b(th-\d\d-\d+|status|reference|estado|my request)\b", "case_status"),
    (
        r"\b(bin|bins|rubbish|collection|collected|basura|recogida|contenedores?)\b",
        "waste_schedule",
    ),
    (r"\b(pothole|report|broken|bache|avisar)\b", "report_issue"),
    (r"\b(permit|permits|permiso|extension)\b", "permit_finder"),
    (r"\b(eligible|qualify|reduction|reduccion)\b", "eligibility"),
    (r"\b(how|pay|library|council tax|noise|what time)\b", "faq"),
]


def fake_understand(text: str, *, language: str = "en") -> Understanding:
    words = text.lower()
    for pattern, skill in KEYWORDS:
        if re.search(pattern, words):
            if skill.startswith("ambiguous:"):
                a, b = skill.split(":")[1].split(",")
                return Understanding(
                    skill=a,
                    confidence=0.5,
                    candidates=(Candidate(a, 0.5), Candidate(b, 0.49)),
                    ambiguous=True,
                )
            return Understanding(skill=skill, confidence=0.9, candidates=(Candidate(skill, 0.9),))
    return Understanding(skill="out_of_scope", confidence=0.2)


@pytest.fixture(autouse=True)
def _understanding(monkeypatch: pytest.MonkeyPatch) -> None:
    if "Skeleton" in (nlu.understand.__doc__ or ""):
        monkeypatch.setattr(nlu, "understand", fake_understand)


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
