"""The in-memory hybrid index: BM25 on titles and bodies plus MiniLM vectors; pure, no DB.

Scores of the two families live on different scales, so BM25 is squashed to [0, 1) with
s / (s + k) before fusion: an absolute transform (not a per-query max) keeps the fused score
comparable across queries, which the content-gap threshold relies on. The weights below were
chosen by measurement (docs/knowledge.md).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from townhall.knowledge.embeddings import DIMENSIONS, Embedder, Vectors

logger = logging.getLogger(__name__)

Scores = npt.NDArray[np.float32]

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "should",
        "so",
        "that",
        "the",
        "their",
        "there",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)


class SearchMode(StrEnum):
    HYBRID = "hybrid"
    BM25 = "bm25"
    DENSE = "dense"


@dataclass(frozen=True)
class FusionWeights:
    """How the fields and the families combine; the defaults are the measured choice."""

    title_dense: float = 0.7  # body gets 1 - title_dense
    body_bm25: float = 0.5  # body BM25 relative to title BM25
    sparse: float = 0.3  # weight of squashed BM25 added to the dense score
    squash_k: float = 8.0


@dataclass(frozen=True)
class IndexedDoc:
    article_id: int
    language: str
    title: str
    body: str
    title_vector: Vectors | None = None
    body_vector: Vectors | None = None


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens without English stop words (BM25's analyser)."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


class _Bm25Field:
    def __init__(self, texts: Sequence[str]) -> None:
        import bm25s

        self._retriever: Any = bm25s.BM25()
        corpus = [tokens(t) or ["\u2205"] for t in texts]
        self._retriever.index(corpus, show_progress=False)
        self._vocab: dict[str, int] = self._retriever.vocab_dict
        self._size = len(texts)

    def scores(self, query: list[str]) -> Scores:
        known = [t for t in query if t in self._vocab]
        if not known:
            return np.zeros(self._size, dtype=np.float32)
        result: Scores = np.asarray(self._retriever.get_scores(known), dtype=np.float32)
        return result


@dataclass
class HybridIndex:
    docs: list[IndexedDoc]
    embedder: Embedder | None
    weights: FusionWeights = field(default_factory=FusionWeights)

    def __post_init__(self) -> None:
        self.ids = np.array([d.article_id for d in self.docs], dtype=np.int64)
        self.languages = np.array([d.language for d in self.docs])
        self._title = _Bm25Field([d.title for d in self.docs]) if self.docs else None
        self._body = _Bm25Field([d.body for d in self.docs]) if self.docs else None
        self.has_vectors = self.embedder is not None and all(
            d.title_vector is not None and d.body_vector is not None for d in self.docs
        )
        if self.embedder is not None and not self.has_vectors:
            logger.warning("knowledge index: some articles have no vectors; BM25 only")
        if self.has_vectors and self.docs:
            self._title_m = np.stack([d.title_vector for d in self.docs])  # type: ignore[misc]
            self._body_m = np.stack([d.body_vector for d in self.docs])  # type: ignore[misc]
        else:
            self._title_m = self._body_m = np.zeros((0, DIMENSIONS), dtype=np.float32)

    @property
    def modes(self) -> list[SearchMode]:
        if self.has_vectors:
            return [SearchMode.BM25, SearchMode.DENSE, SearchMode.HYBRID]
        return [SearchMode.BM25]

    def _sparse(self, query: str) -> Scores:
        assert self._title is not None
        assert self._body is not None
        q = tokens(query)
        raw = self._title.scores(q) + self.weights.body_bm25 * self._body.scores(q)
        squashed: Scores = (raw / (raw + self.weights.squash_k)).astype(np.float32)
        return squashed

    def _dense(self, query: str) -> Scores:
        assert self.embedder is not None
        vector = self.embedder.encode([query])[0]
        w = self.weights.title_dense
        result: Scores = w * (self._title_m @ vector) + (1 - w) * (self._body_m @ vector)
        return result

    def scores(self, query: str, mode: SearchMode = SearchMode.HYBRID) -> Scores:
        """Return one score per document (higher is better)."""
        if not self.docs:
            return np.zeros(0, dtype=np.float32)
        if not self.has_vectors or mode is SearchMode.BM25:
            return self._sparse(query)
        if mode is SearchMode.DENSE:
            return self._dense(query)
        fused: Scores = self._dense(query) + self.weights.sparse * self._sparse(query)
        return fused

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        mode: SearchMode = SearchMode.HYBRID,
        language: str | None = None,
    ) -> list[tuple[int, float]]:
        """Return up to `limit` (article id, score) pairs, best first."""
        scores = self.scores(query, mode)
        if not len(scores):
            return []
        if language:
            scores = np.where(self.languages == language, scores, -np.inf).astype(np.float32)
        limit = min(limit, len(scores))
        top = np.argpartition(-scores, limit - 1)[:limit]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(self.ids[i]), float(scores[i])) for i in top if np.isfinite(scores[i])]
