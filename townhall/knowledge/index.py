"""The in-memory hybrid index: BM25 on titles and bodies plus MiniLM vectors; pure, no DB.

Scores of the two families live on different scales, so BM25 is squashed to [0, 1) with
s / (s + k) before fusion: an absolute transform (not a per-query max) keeps the fused score
comparable across queries, which the content-gap threshold relies on. The weights below were
chosen on the tuning half of deepset's paraphrases only and are reported on the other half
(`evaluation.deepset_split`, docs/benchmarks.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from townhall.knowledge.analysis import Analyser, analyser_for, language_base
from townhall.knowledge.embeddings import DIMENSIONS, MODEL_LANGUAGES, Embedder, Vectors

logger = logging.getLogger(__name__)

Scores = npt.NDArray[np.float32]


class SearchMode(StrEnum):
    HYBRID = "hybrid"
    BM25 = "bm25"
    DENSE = "dense"


@dataclass(frozen=True)
class FusionWeights:
    """How the fields and the families combine; the defaults are the measured choice."""

    title_dense: float = 0.7  # the whole-article vector gets 1 - title_dense
    body_bm25: float = 0.5  # body BM25 relative to title BM25 (also BM25 alone: kept)
    sparse: float = 0.6  # weight of squashed BM25 added to the dense score
    squash_k: float = 8.0


@dataclass(frozen=True)
class IndexedDoc:
    article_id: int
    language: str
    title: str
    body: str
    title_vector: Vectors | None = None
    body_vector: Vectors | None = None


class _Bm25Field:
    def __init__(self, texts: Sequence[str], analyse: Analyser) -> None:
        import bm25s

        self._retriever: Any = bm25s.BM25()
        corpus = [analyse(t) or ["\u2205"] for t in texts]
        self._retriever.index(corpus, show_progress=False)
        self._vocab: dict[str, int] = self._retriever.vocab_dict
        self._size = len(texts)

    def scores(self, query: list[str]) -> Scores:
        known = [t for t in query if t in self._vocab]
        if not known:
            return np.zeros(self._size, dtype=np.float32)
        result: Scores = np.asarray(self._retriever.get_scores(known), dtype=np.float32)
        return result


class _Bm25Language:
    """BM25 over the titles and bodies of the articles in one language, analysed in it."""

    def __init__(self, docs: Sequence[IndexedDoc], rows: Sequence[int], analyse: Analyser) -> None:
        self.rows = np.asarray(rows, dtype=np.int64)
        self.analyse = analyse
        self.title = _Bm25Field([docs[i].title for i in rows], analyse)
        self.body = _Bm25Field([docs[i].body for i in rows], analyse)


@dataclass
class HybridIndex:
    """Articles in any number of languages. BM25 runs per language, each language's articles
    analysed with its own stop words and stemmer (`analysis.analyser_for`, replaceable for
    measurements), and a query analysed once per language it is scored against."""

    docs: list[IndexedDoc]
    embedder: Embedder | None
    weights: FusionWeights = field(default_factory=FusionWeights)
    analysers: Callable[[str], Analyser] = analyser_for
    # None: fuse dense and BM25 in every language (the behaviour before issue 16).
    model_languages: frozenset[str] | None = MODEL_LANGUAGES

    def __post_init__(self) -> None:
        self.ids = np.array([d.article_id for d in self.docs], dtype=np.int64)
        self.languages = np.array([d.language for d in self.docs])
        rows: dict[str, list[int]] = {}
        for i, doc in enumerate(self.docs):
            rows.setdefault(doc.language, []).append(i)
        self._bm25 = {
            language: _Bm25Language(self.docs, found, self.analysers(language))
            for language, found in rows.items()
        }
        self.has_vectors = self.embedder is not None and all(
            d.title_vector is not None and d.body_vector is not None for d in self.docs
        )
        if self.embedder is not None and not self.has_vectors:
            logger.warning("knowledge index: some articles have no vectors; BM25 only")
        if self.has_vectors and self.docs:
            # The field mix is linear, so it is folded into one matrix once: a query costs one
            # matrix-vector product, not two (half the memory read on 10,000 articles).
            w = self.weights.title_dense
            title_m = np.stack([d.title_vector for d in self.docs])  # type: ignore[misc]
            body_m = np.stack([d.body_vector for d in self.docs])  # type: ignore[misc]
            self._dense_m = (w * title_m + (1 - w) * body_m).astype(np.float32)
        else:
            self._dense_m = np.zeros((0, DIMENSIONS), dtype=np.float32)

    @property
    def modes(self) -> list[SearchMode]:
        if self.has_vectors:
            return [SearchMode.BM25, SearchMode.DENSE, SearchMode.HYBRID]
        return [SearchMode.BM25]

    def _sparse(self, query: str, language: str | None = None) -> Scores:
        """Squashed BM25 per article; only `language`'s articles score when it is given."""
        raw = np.zeros(len(self.docs), dtype=np.float32)
        for found, group in self._bm25.items():
            if language and found != language:
                continue
            q = group.analyse(query)
            raw[group.rows] = group.title.scores(q) + self.weights.body_bm25 * group.body.scores(q)
        squashed: Scores = (raw / (raw + self.weights.squash_k)).astype(np.float32)
        return squashed

    def _dense(self, query: str) -> Scores:
        assert self.embedder is not None
        vector = self.embedder.encode([query])[0]
        # einsum runs in this thread: `@` hands a matrix-vector product to OpenBLAS's thread
        # pool, whose threads spin against the other processes on a busy 2-core machine
        # (p50 16 ms against 0.6 ms for 10,000 articles, measured; docs/benchmarks.md).
        result: Scores = np.einsum("ij,j->i", self._dense_m, vector)
        return result

    def scores(
        self, query: str, mode: SearchMode = SearchMode.HYBRID, language: str | None = None
    ) -> Scores:
        """Return one score per document (higher is better); with `language`, BM25 is
        worked out only for that language's articles (the others are filtered anyway).
        Hybrid fuses dense and BM25 scores, except in a search of one language the embedding
        model does not read (`model_languages`): that one ranks by BM25 alone. A search of
        every language fuses both for all, so that scores stay comparable across them."""
        if not self.docs:
            return np.zeros(0, dtype=np.float32)
        if not self.has_vectors or mode is SearchMode.BM25:
            return self._sparse(query, language)
        if mode is SearchMode.DENSE:
            return self._dense(query)
        sparse = self._sparse(query, language)
        reads = self.model_languages
        if language and reads is not None and language_base(language) not in reads:
            return sparse  # no query to encode
        fused: Scores = self._dense(query) + self.weights.sparse * sparse
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
        scores = self.scores(query, mode, language)
        if not len(scores):
            return []
        if language:
            scores = np.where(self.languages == language, scores, -np.inf).astype(np.float32)
        limit = min(limit, len(scores))
        top = np.argpartition(-scores, limit - 1)[:limit]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(self.ids[i]), float(scores[i])) for i in top if np.isfinite(scores[i])]
