"""Millbrook's help articles: the demo corpus behind /help/ and its hybrid search.

The articles live in ``townhall/demo/data/help_articles.jsonl`` (the import format of
``townhall knowledge import``). Loading goes through `articles_import`, so they are published,
have no owner and get vectors when the embedding model is installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from townhall.knowledge.embeddings import embedder_get, vectors_tag
from townhall.knowledge.jsonl import jsonl_read
from townhall.knowledge.models import Article
from townhall.knowledge.services import articles_import

# A data file of the demo app, read by path: the knowledge app does not import the demo app.
DEMO_ARTICLES_PATH = (
    Path(__file__).resolve().parent.parent / "demo" / "data" / "help_articles.jsonl"
)


def demo_articles_read(path: Path = DEMO_ARTICLES_PATH) -> list[dict[str, Any]]:
    """Return the rows of the demo's article file. Raise ValidationFailed if malformed."""
    return jsonl_read(path)


def _unchanged(article: Article, row: Mapping[str, Any], model: str | None) -> bool:
    same = (
        article.title == str(row.get("title") or "").strip()[:300]
        and article.body == str(row.get("body") or "")
        and article.language == str(row.get("language") or "en")
        and article.tags == [str(t) for t in row.get("tags") or []]
    )
    embedded = model is None or (bool(article.embedding) and article.embedding_model == model)
    return same and embedded


def demo_knowledge_load(path: Path = DEMO_ARTICLES_PATH) -> int:
    """Import the demo help articles and return how many the file holds.

    Idempotent: articles are keyed by their ``id``; a second run creates nothing and only
    re-imports an article whose text changed or that still lacks vectors from the current
    model. Raise ValidationFailed if the file or one of its rows is invalid.
    """
    rows = demo_articles_read(path)
    embedder = embedder_get()
    model = vectors_tag(embedder) if embedder is not None else None
    existing = {
        a.external_id: a
        for a in Article.objects.filter(external_id__in=[str(r.get("id") or "") for r in rows])
    }
    stale = [
        row
        for row in rows
        if (article := existing.get(str(row.get("id") or ""))) is None
        or not _unchanged(article, row, model)
    ]
    if stale:
        articles_import(rows=stale, publish=True)
    return len(rows)
