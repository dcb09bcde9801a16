"""Millbrook's demo help articles: well-formed, linked to real pages, loadable, findable."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import Resolver404, resolve

from townhall.knowledge.demo import DEMO_ARTICLES_PATH, demo_articles_read, demo_knowledge_load
from townhall.knowledge.embeddings import embedder_cache_clear
from townhall.knowledge.index import SearchMode
from townhall.knowledge.models import Article, ArticleStatus
from townhall.knowledge.selectors import article_search, knowledge_index_clear

TOWN_PATH = Path(__file__).resolve().parents[2] / "townhall" / "demo" / "data" / "town.json"
LINK = re.compile(r"\]\(([^)\s]+)\)")
ROWS = demo_articles_read()

# (a resident's question in their own words, the id of the article that answers it)
QUESTIONS = [
    ("when do they empty my green bin", "bins-collection-days"),
    ("road has a big hole", "potholes"),
    ("can I put pizza boxes in the recycling", "bins-what-goes-where"),
    ("the garbage truck skipped my house", "missed-bin-collection"),
    ("how do I get rid of an old mattress", "bulky-item-pickup"),
    ("my apartment radiators are cold and the landlord ignores me", "no-heat-landlord"),
    ("who has to shovel the snow in front of my house", "snow-and-ice"),
    ("what does reference TH-26-001234 mean", "track-your-request"),
    ("can I get money to insulate my attic", "energy-renovation-grant"),
    ("do I need permission to knock down a wall", "renovation-permits"),
    ("what time does the town hall close", "town-hall-opening-hours"),
    ("can I send you a text message", "contact-us"),
    ("¿cuándo pasa el camión de la basura?", "bins-collection-days-es"),
    ("hay un agujero en la calle", "potholes-es"),
    ("necesito un permiso para aparcar", "resident-parking-permit-es"),
    ("someone dumped a sofa on the corner", "illegal-dumping"),
    ("the light outside my house is broken", "streetlights"),
    ("my neighbours play loud music at 2am", "noise-complaints"),
    ("a branch fell on the sidewalk", "street-trees"),
    ("do you sell my personal information", "your-data"),
    ("there is a dog running loose", "animals"),
    ("the swings in the park are broken", "park-and-playground-problems"),
    ("someone spray painted my fence", "graffiti"),
]
# Words BM25 alone can match: no synonyms, but the resident's own words are in the article.
KEYWORD_QUESTIONS = [
    ("when do they empty my green bin", "bins-collection-days"),
    ("road has a big hole", "potholes"),
    ("reference number TH-26-004211 status", "track-your-request"),
    ("parking permit for my car", "resident-parking-permit"),
    ("help paying council tax on a low income", "council-tax-reduction"),
    ("christmas tree collection", "christmas-trees"),
    ("rats in my garden", "rodents"),
    ("do you sell my personal information", "your-data"),
    ("the swings in the park are broken", "park-and-playground-problems"),
    ("necesito un permiso para aparcar", "resident-parking-permit-es"),
]


@pytest.fixture(autouse=True)
def _fresh_embedder() -> Iterator[None]:
    embedder_cache_clear()
    yield
    embedder_cache_clear()


def _service_codes() -> set[str]:
    town = json.loads(TOWN_PATH.read_text(encoding="utf-8"))
    return {str(s["code"]) for s in town["service_types"]}


def _top(query: str, mode: SearchMode = SearchMode.HYBRID) -> str:
    results = article_search(query=query, limit=5, mode=mode)
    return results[0].article.external_id if results else ""


def test_the_file_parses_into_complete_articles() -> None:
    lines = [line for line in DEMO_ARTICLES_PATH.read_text(encoding="utf-8").splitlines() if line]
    assert len(lines) == len(ROWS)
    ids = [row["id"] for row in ROWS]
    assert len(ids) == len(set(ids)), "ids must be unique"
    for row in ROWS:
        assert set(row) >= {"id", "title", "body", "language", "tags"}, row["id"]
        assert row["language"] in {"en", "es"}, row["id"]
        assert row["tags"] and all(isinstance(t, str) for t in row["tags"]), row["id"]
        words = len(re.findall(r"\w+", row["body"]))
        assert 80 <= words <= 250, f"{row['id']}: {words} words"
        assert "## " in row["body"], f"{row['id']}: no Markdown heading"
    english = [r for r in ROWS if r["language"] == "en"]
    spanish = [r for r in ROWS if r["language"] == "es"]
    assert 24 <= len(english) <= 30
    assert 6 <= len(spanish) <= 8
    # Every Spanish article translates an English one.
    assert {r["id"].removesuffix("-es") for r in spanish} <= {r["id"] for r in english}


@pytest.mark.parametrize("row", ROWS, ids=[str(r["id"]) for r in ROWS])
def test_internal_links_point_to_existing_pages(row: dict[str, Any]) -> None:
    codes = _service_codes()
    links = LINK.findall(row["body"])
    assert links, f"{row['id']} links nowhere"
    for link in links:
        assert link.startswith("/"), f"{row['id']}: external or relative link {link}"
        try:
            match = resolve(link.split("#")[0].split("?")[0])
        except Resolver404:
            pytest.fail(f"{row['id']}: {link} is not a page")
        if match.view_name == "portal:report":
            assert match.kwargs["code"] in codes, f"{row['id']}: no service type {link}"
        if match.view_name == "portal:check-programme":
            programmes = DEMO_ARTICLES_PATH.parents[2] / "rules" / "programmes"
            assert (programmes / f"{match.kwargs['rule_id']}.yaml").exists(), link


@pytest.mark.django_db
def test_loading_twice_gives_the_same_articles() -> None:
    assert demo_knowledge_load() == len(ROWS)
    first = dict(Article.objects.values_list("external_id", "version"))
    assert demo_knowledge_load() == len(ROWS)
    assert Article.objects.count() == len(ROWS)
    assert dict(Article.objects.values_list("external_id", "version")) == first
    published = Article.objects.filter(status=ArticleStatus.PUBLISHED, owner__isnull=True)
    assert published.count() == len(ROWS)


@pytest.mark.django_db
def test_a_changed_article_is_updated_not_duplicated(tmp_path: Path) -> None:
    demo_knowledge_load()
    rows = [dict(row) for row in ROWS]
    rows[0]["title"] = "Bin days (updated)"
    changed = tmp_path / "help.jsonl"
    changed.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    demo_knowledge_load(changed)
    assert Article.objects.count() == len(ROWS)
    article = Article.objects.get(external_id=rows[0]["id"])
    assert (article.title, article.version) == ("Bin days (updated)", 2)


@pytest.mark.django_db
def test_paraphrased_questions_find_their_article_first() -> None:
    demo_knowledge_load()
    assert Article.objects.exclude(embedding=None).count() == len(ROWS)
    knowledge_index_clear()
    misses = [(q, expected, _top(q)) for q, expected in QUESTIONS if _top(q) != expected]
    assert misses == []


@pytest.mark.django_db
def test_keyword_questions_find_their_article_first_without_the_model(
    settings: Any,
) -> None:
    settings.TOWNHALL_KNOWLEDGE_EMBEDDINGS = False
    embedder_cache_clear()
    demo_knowledge_load()
    assert Article.objects.exclude(embedding=None).count() == 0
    knowledge_index_clear()
    misses = [
        (q, expected, _top(q, SearchMode.BM25))
        for q, expected in KEYWORD_QUESTIONS
        if _top(q, SearchMode.BM25) != expected
    ]
    assert misses == []
