"""Reads of the knowledge app: public articles, hybrid search, feedback and content gaps."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from townhall.core.errors import NotFound
from townhall.knowledge.analysis import language_base
from townhall.knowledge.embeddings import embedder_get, vectors_tag, vectors_unpack
from townhall.knowledge.index import HybridIndex, IndexedDoc, SearchMode
from townhall.knowledge.models import Article, ArticleStatus, IndexState, SearchLog

logger = logging.getLogger(__name__)


def article_list_public(*, language: str | None = None) -> QuerySet[Article]:
    """Return published articles, by title."""
    articles = Article.objects.filter(status=ArticleStatus.PUBLISHED)
    if language:
        articles = articles.filter(language=language)
    return articles.order_by("title")


def article_get_public(*, slug: str) -> Article:
    """Return a published article. Raise NotFound for a draft or an unknown slug."""
    article = Article.objects.filter(slug=slug, status=ArticleStatus.PUBLISHED).first()
    if article is None:
        raise NotFound("No such article.")
    return article


def articles_due_review(*, on: dt.date) -> QuerySet[Article]:
    """Return articles whose review-by date is on or before `on`."""
    return Article.objects.filter(review_by__lte=on).order_by("review_by")


def article_feedback_counts(*, article_id: int) -> dict[str, int]:
    """Return how many readers found an article helpful and how many did not."""
    counts = Article.objects.filter(pk=article_id).aggregate(
        yes=Count("feedback", filter=Q(feedback__helpful=True)),
        no=Count("feedback", filter=Q(feedback__helpful=False)),
    )
    return {"yes": counts["yes"] or 0, "no": counts["no"] or 0}


# --- the per-process index -------------------------------------------------------------------

_lock = threading.Lock()
_cache: dict[str, object] = {}


def _generation() -> int:
    value = IndexState.objects.filter(pk=1).values_list("generation", flat=True).first()
    return int(value or 0)


def _index_build() -> HybridIndex:
    embedder = embedder_get()
    docs = []
    rows = article_list_public().values_list(
        "pk", "language", "title", "summary", "body", "embedding", "embedding_model"
    )
    # Vectors of the layout before issue 17 (second vector of the body alone, tagged with the
    # bare model name) still serve, a little worse, until `knowledge reembed` replaces them:
    # dropping them would put the whole index on BM25 alone.
    usable = {vectors_tag(embedder), embedder.name} if embedder is not None else set()
    older = 0
    for pk, language, title, summary, body, raw, model in rows:
        title_v = body_v = None
        if raw and model in usable:
            title_v, body_v = vectors_unpack(raw)
            older += model == embedder.name  # type: ignore[union-attr]
        docs.append(IndexedDoc(pk, language, title, f"{summary}\n{body}", title_v, body_v))
    if older:
        logger.warning(
            "knowledge index: %s articles have vectors of an older layout; "
            "run `townhall knowledge reembed`",
            older,
        )
    return HybridIndex(docs, embedder)


def knowledge_index_get() -> HybridIndex:
    """Return this process's index, reloading it when an article changed (one cheap query)."""
    generation = _generation()
    if _cache.get("generation") != generation or "index" not in _cache:
        with _lock:
            if _cache.get("generation") != generation or "index" not in _cache:
                started = time.perf_counter()
                _cache["index"] = _index_build()
                _cache["generation"] = generation
                logger.info(
                    "knowledge index: generation %s loaded in %.0f ms",
                    generation,
                    (time.perf_counter() - started) * 1000,
                )
    index = _cache["index"]
    assert isinstance(index, HybridIndex)
    return index


def knowledge_index_clear() -> None:
    """Forget the loaded index (tests)."""
    with _lock:
        _cache.clear()


@dataclass(frozen=True)
class SearchResult:
    article: Article
    score: float


def gap_threshold() -> float:
    """The fused score under which a search counts as having no good answer."""
    return float(getattr(settings, "TOWNHALL_KNOWLEDGE_GAP_THRESHOLD", 0.45))


def article_search(
    *,
    query: str,
    language: str | None = None,
    limit: int = 10,
    mode: SearchMode = SearchMode.HYBRID,
) -> list[SearchResult]:
    """Return published articles that answer `query`, best first.

    `language` is the reader's ("es", "es-MX"): the query is analysed in it and only that
    language's articles are ranked. When none of them matches at all (score 0: no shared
    word, and no embedding for a language the model does not read), every language is
    ranked instead, each analysed in its own, so a topic written up only in English still
    reaches a Spanish reader. Without `language`, every language is ranked.
    """
    index = knowledge_index_get()
    base = language_base(language) or None
    hits = index.search(query, limit=limit, mode=mode, language=base)
    if base and (not hits or hits[0][1] <= 0):
        hits = index.search(query, limit=limit, mode=mode)
    articles = Article.objects.in_bulk([pk for pk, _ in hits])
    return [SearchResult(articles[pk], score) for pk, score in hits if pk in articles]


def search_gaps(*, limit: int = 500, source: str | None = None) -> QuerySet[SearchLog]:
    """Return the latest searches that found no good answer."""
    logs = SearchLog.objects.filter(answered=False)
    if source:
        logs = logs.filter(source=source)
    return logs.order_by("-created_at")[:limit]
