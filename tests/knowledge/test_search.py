"""Hybrid search: relevance on paraphrases, fallback without the model, incremental updates."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest

from tests.knowledge.conftest import PARAPHRASES
from townhall.knowledge import embeddings
from townhall.knowledge.clustering import gaps_cluster
from townhall.knowledge.embeddings import embedder_get
from townhall.knowledge.index import HybridIndex, IndexedDoc, SearchMode
from townhall.knowledge.rendering import article_html
from townhall.knowledge.selectors import article_search, knowledge_index_get
from townhall.knowledge.services import article_create, article_update

pytestmark = pytest.mark.django_db


def _rank(query: str, expected: Any, mode: SearchMode = SearchMode.HYBRID) -> int:
    ids = [r.article.pk for r in article_search(query=query, mode=mode)]
    return ids.index(expected.pk) + 1 if expected.pk in ids else 99


def test_the_embedder_gives_normalised_vectors_that_match_paraphrases() -> None:
    embedder = embedder_get()
    assert embedder is not None
    vectors = embedder.encode(["bin collection day", "when are the bins emptied", "library"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_paraphrased_questions_find_their_article_first(help_articles: list[Any]) -> None:
    ranks = [_rank(query, help_articles[i]) for query, i in PARAPHRASES]
    assert ranks == [1] * len(PARAPHRASES)


def test_hybrid_is_at_least_as_good_as_bm25_on_paraphrases(help_articles: list[Any]) -> None:
    def mrr(mode: SearchMode) -> float:
        ranks = [_rank(query, help_articles[i], mode) for query, i in PARAPHRASES]
        return sum(1 / r for r in ranks) / len(ranks)

    assert mrr(SearchMode.HYBRID) >= mrr(SearchMode.BM25)
    assert mrr(SearchMode.HYBRID) >= mrr(SearchMode.DENSE)


def test_without_the_model_search_falls_back_to_bm25_and_says_so(
    help_articles: list[Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def missing() -> None:
        raise FileNotFoundError("model.onnx")

    monkeypatch.setattr(embeddings, "_onnx_load", missing)
    embeddings.embedder_cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="townhall.knowledge.embeddings"):
            results = article_search(query="council tax direct debit")
        assert results[0].article == help_articles[1]
        assert knowledge_index_get().modes == [SearchMode.BM25]
        assert "embedding model unavailable" in caplog.text
        assert "BM25 only" in caplog.text
    finally:
        embeddings.embedder_cache_clear()


def test_an_edit_is_visible_in_the_next_search(help_articles: list[Any]) -> None:
    library = help_articles[5]
    article_update(
        article_id=library.pk,
        body="Borrow e-readers and tablets from the central library with your card.",
    )
    assert _rank("where can I borrow an e-reader", library) == 1
    fresh = article_create(title="Swimming pool prices", body="Adults 5, children 3.", publish=True)
    assert article_search(query="how much is a swim")[0].article == fresh


def test_drafts_are_not_found() -> None:
    article_create(title="Secret plan", body="Not yet announced.")
    assert article_search(query="secret plan") == []


def test_the_index_filters_by_language() -> None:
    docs = [IndexedDoc(1, "en", "bin day", "waste"), IndexedDoc(2, "es", "bin day", "basura")]
    index = HybridIndex(docs, None)
    assert [pk for pk, _ in index.search("bin day", language="es")] == [2]


def test_markdown_is_rendered_without_raw_html_or_script_links() -> None:
    html = article_html("**Bold** <script>alert(1)</script> [x](javascript:alert(1))")
    assert "<strong>Bold</strong>" in html
    assert "<script>" not in html
    assert 'href="javascript' not in html


def test_unanswered_searches_cluster_by_topic() -> None:
    queries = [
        "dog fouling fine",
        "dog mess on pavement",
        "dog poo bins",
        "wedding venue hire",
        "hire town hall for wedding",
    ]
    clusters = gaps_cluster(queries, clusters=2)
    groups = sorted(sorted(c.queries) for c in clusters)
    assert groups == [sorted(queries[:3]), sorted(queries[3:])]
