"""Article vectors (issue 17): the model is pooled as trained, each article has a title vector
and a whole-article vector, and vectors of the older layout are found and encoded again."""

from __future__ import annotations

import logging
from io import StringIO
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command

from townhall.knowledge.embeddings import (
    OnnxEmbedder,
    article_vector_text,
    embedder_get,
    texts_encode,
    vectors_pack,
    vectors_tag,
    vectors_unpack,
)
from townhall.knowledge.evaluation import deepset_split
from townhall.knowledge.index import SearchMode
from townhall.knowledge.models import Article, IndexState
from townhall.knowledge.selectors import article_search, knowledge_index_get
from townhall.knowledge.services import article_create, articles_reembed


def _embedder() -> OnnxEmbedder:
    embedder = embedder_get()
    assert isinstance(embedder, OnnxEmbedder)
    return embedder


def test_vectors_are_the_mean_of_the_token_states_over_the_attention_mask() -> None:
    # all-MiniLM-L6-v2 was trained with mean pooling over every real token ([CLS] and [SEP]
    # included, padding excluded) and then L2-normalised: the ONNX file returns the token
    # states (last_hidden_state), and the pooling is ours.
    embedder = _embedder()
    text = "when are the bins emptied"
    tokens = embedder._tokenizer.encode(text)
    ids = np.array([tokens.ids], dtype=np.int64)
    states = embedder._session.run(
        None,
        {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": 0 * ids},
    )[0]
    assert states.shape == (1, len(tokens.ids), 384)
    expected = states[0].mean(axis=0)
    expected /= np.linalg.norm(expected)
    assert np.allclose(embedder.encode([text])[0], expected, atol=1e-5)


def test_padding_in_a_batch_does_not_change_a_vector() -> None:
    embedder = _embedder()
    short = "library hours"
    alone = embedder.encode([short])[0]
    padded = embedder.encode([short, "a much longer sentence " * 20])[0]
    assert np.allclose(alone, padded, atol=1e-4)


def test_the_whole_article_text_joins_title_summary_and_body() -> None:
    text = article_vector_text(title="Bin days", summary=" ", body="Every other week.")
    assert text == "Bin days\nEvery other week."


@pytest.mark.django_db
def test_an_article_stores_a_title_vector_and_a_whole_article_vector() -> None:
    embedder = _embedder()
    article = article_create(
        title="Library opening hours", body="Open 9am to 8pm on weekdays.", publish=True
    )
    title, whole = vectors_unpack(article.embedding)
    expected = texts_encode(
        embedder, ["Library opening hours", "Library opening hours\nOpen 9am to 8pm on weekdays."]
    )
    assert np.allclose(title, expected[0], atol=1e-5)
    assert np.allclose(whole, expected[1], atol=1e-5)
    assert article.embedding_model == vectors_tag(embedder) == f"{embedder.name}:title+article"


@pytest.mark.django_db
def test_vectors_of_the_older_layout_still_serve_and_reembed_replaces_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    embedder = _embedder()
    article = article_create(
        title="How to report a pothole",
        body="Tell us about holes in the road surface.",
        publish=True,
    )
    title, _ = vectors_unpack(article.embedding)
    body_only = embedder.encode(["Tell us about holes in the road surface."])[0]
    Article.objects.filter(pk=article.pk).update(
        embedding=vectors_pack(title, body_only), embedding_model=embedder.name
    )
    IndexState.objects.filter(pk=1).update(generation=99)
    with caplog.at_level(logging.WARNING, logger="townhall.knowledge.selectors"):
        index = knowledge_index_get()
    assert index.modes[-1] is SearchMode.HYBRID  # not BM25 alone while the layout is older
    assert "1 articles have vectors of an older layout" in caplog.text
    assert article_search(query="big hole in the street")[0].article.pk == article.pk

    out = StringIO()
    call_command("knowledge", "reembed", stdout=out)
    assert "1 articles encoded" in out.getvalue()
    article.refresh_from_db()
    assert article.embedding_model == vectors_tag(embedder)
    assert article.version == 1  # the text did not change: no new version
    assert articles_reembed() == 0  # nothing stale is left
    assert articles_reembed(every=True) == 1


def test_the_deepset_split_holds_out_whole_articles() -> None:
    articles: list[dict[str, Any]] = [{"id": f"a{n}", "title": f"Question {n}?"} for n in range(40)]
    queries = [
        {"query": f"paraphrase {k} of {n}", "expected_id": f"a{n}"}
        for n in range(40)
        for k in range(3)
    ]
    tuning, held = deepset_split(articles, queries)
    assert len(tuning) + len(held) == len(queries)
    assert tuning and held
    assert not {q["expected_id"] for q in tuning} & {q["expected_id"] for q in held}
    assert deepset_split(articles, queries) == (tuning, held)  # no seed: the same every run
