"""Knowledge fixtures: a small council help corpus built through the services."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from townhall.knowledge.selectors import knowledge_index_clear
from townhall.knowledge.services import article_create

# Each article with a question a resident might type in other words.
HELP_ARTICLES: list[dict[str, Any]] = [
    {
        "title": "When is my bin collected?",
        "body": "Household waste is collected **every other week**. Find your collection "
        "day by entering your postcode on the bin days page.",
        "tags": ["waste"],
    },
    {
        "title": "How do I pay my council tax?",
        "body": "You can pay council tax by direct debit, online with a card, or at the "
        "post office using the barcode on your bill.",
        "tags": ["tax"],
    },
    {
        "title": "How to report a pothole",
        "body": "Tell us about holes in the road surface using the report a problem form. "
        "Urgent dangers are fixed within 4 hours.",
        "tags": ["streets"],
        "service_codes": ["pothole"],
    },
    {
        "title": "Applying for a parking permit",
        "body": "Residents can apply for an on-street parking permit for their vehicle. "
        "You will need proof of address and the car's registration.",
        "tags": ["parking"],
    },
    {
        "title": "Noise from neighbours",
        "body": "If a neighbour plays loud music late at night, keep a diary and report "
        "it to environmental health.",
        "tags": ["noise"],
    },
    {
        "title": "Library opening hours",
        "body": "The central library opens 9am to 8pm on weekdays and 10am to 4pm on "
        "Saturdays. It is closed on Sundays.",
        "tags": ["library"],
    },
]

# (paraphrased question, index of the article that answers it)
PARAPHRASES = [
    ("what day do the rubbish trucks come", 0),
    ("which day is refuse picked up", 0),
    ("ways to settle my property rates", 1),
    ("there is a big hole in the street", 2),
    ("permission to leave my car on the road outside my house", 3),
    ("the people next door are too loud at night", 4),
    ("what time does the library close", 5),
]


@pytest.fixture(autouse=True)
def _fresh_index() -> Iterator[None]:
    # Rolled-back tests reuse generation numbers, so a process-wide index would go stale.
    knowledge_index_clear()
    yield
    knowledge_index_clear()


@pytest.fixture
def help_articles(db: None) -> list[Any]:
    return [article_create(publish=True, **fields) for fields in HELP_ARTICLES]
