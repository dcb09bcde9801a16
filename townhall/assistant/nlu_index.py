"""The examples the understanding module compares a message with, encoded once per process.

Examples come from the skills' YAML (both languages) and from active `SkillExample` rows
(taught by staff). Each example is kept as a dense MiniLM vector (the model knowledge search
already loaded: one model per process) and as a TF-IDF vector of character n-grams, the
sparse fallback when the model is unavailable and the half of the score that carries Spanish,
which the English-only MiniLM reads poorly.

Staff rows change rarely: a cheap signature of the active rows (count, highest id, sum of ids)
is read at most once every `SIGNATURE_SECONDS`, and the index is rebuilt when it changed.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import Count, Max, Sum

from townhall.assistant.models import SkillExample
from townhall.assistant.skills import skills_load
from townhall.knowledge.embeddings import Vectors, embedder_get, texts_encode

logger = logging.getLogger(__name__)

OUT_OF_SCOPE = "out_of_scope"
SIGNATURE_SECONDS = 2.0
MAX_CHARS = 1000  # a pasted essay is judged by its start; the model reads 256 tokens anyway

_REFERENCE_LIKE = re.compile(r"\b[A-Za-z]{1,4}[- ]?\d{2}[- ]?\d{3,12}\b")


def classify_text(text: str) -> str:
    """The text the classifier sees: a case reference reads as the words "reference number",
    so "TH-26-000123" alone is a status question, not a string of odd tokens."""
    return _REFERENCE_LIKE.sub(" reference number ", text[:MAX_CHARS]).strip()


def text_fold(text: str) -> str:
    """Lower case, no accents, single spaces: what the sparse vectors see."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


@dataclass(frozen=True)
class Example:
    skill: str
    language: str
    text: str


@dataclass(frozen=True)
class ExampleIndex:
    """Immutable once built: threads share it without locks."""

    examples: tuple[Example, ...]
    skills: tuple[str, ...]  # the classes, sorted; out_of_scope included when it has examples
    labels: np.ndarray[Any, np.dtype[np.int64]]  # examples -> index into skills (sorted)
    starts: np.ndarray[Any, np.dtype[np.int64]]  # skills -> their first example's row
    dense: Vectors | None  # one normalised row per example, None without the model
    vectorizer: Any  # TfidfVectorizer on folded text
    sparse: Any  # scipy CSR, one L2-normalised row per example

    def encode_dense(self, text: str) -> Vectors | None:
        embedder = embedder_get()
        if embedder is None or self.dense is None:
            return None
        vector: Vectors = embedder.encode([text])[0]
        return vector

    def encode_sparse(self, text: str) -> Any:
        return self.vectorizer.transform([text_fold(text)])


def yaml_examples() -> list[Example]:
    return [
        Example(skill=skill.name, language=language, text=text)
        for skill in skills_load().values()
        for language, texts in skill.examples.items()
        for text in texts
    ]


def taught_examples() -> list[Example]:
    known = set(skills_load())
    rows = SkillExample.objects.filter(active=True).values_list("skill", "language", "text")
    return [Example(skill=s, language=lang, text=t) for s, lang, t in rows if s in known]


def index_build(examples: Sequence[Example]) -> ExampleIndex:
    from sklearn.feature_extraction.text import TfidfVectorizer

    # A taught duplicate of a YAML line counts once; rows grouped by skill (stable), so a
    # skill's examples are one slice and its best score one `np.maximum.reduceat`.
    unique = tuple(sorted(dict.fromkeys(examples), key=lambda e: e.skill))
    skills = tuple(sorted({e.skill for e in unique}))
    labels = np.array([skills.index(e.skill) for e in unique], dtype=np.int64)
    starts = np.searchsorted(labels, np.arange(len(skills))).astype(np.int64)
    vectorizer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=1, dtype=np.float32
    )
    texts = [classify_text(e.text) for e in unique]
    sparse = vectorizer.fit_transform([text_fold(t) for t in texts]).tocsr()
    embedder = embedder_get()
    dense = None
    if embedder is not None:
        dense = texts_encode(embedder, texts, batch_size=32)
    return ExampleIndex(
        examples=unique,
        skills=skills,
        labels=labels,
        starts=starts,
        dense=dense,
        vectorizer=vectorizer,
        sparse=sparse,
    )


_lock = threading.Lock()
_cache: dict[str, Any] = {}


def _signature() -> tuple[int, int, int]:
    row = SkillExample.objects.filter(active=True).aggregate(
        n=Count("id"), top=Max("id"), total=Sum("id")
    )
    return int(row["n"] or 0), int(row["top"] or 0), int(row["total"] or 0)


def example_index_get() -> ExampleIndex:
    """This process's index; rebuilt when staff taught or retired an example."""
    now = time.monotonic()
    index = _cache.get("index")
    if index is not None and _cache.get("checked", 0.0) > now:
        return index  # type: ignore[no-any-return]
    signature = _signature()
    with _lock:
        if _cache.get("index") is None or _cache.get("signature") != signature:
            started = time.perf_counter()
            _cache["index"] = index_build(yaml_examples() + taught_examples())
            _cache["signature"] = signature
            logger.info(
                "assistant: %s examples indexed in %.0f ms",
                len(_cache["index"].examples),
                (time.perf_counter() - started) * 1000,
            )
        _cache["checked"] = time.monotonic() + SIGNATURE_SECONDS
        return _cache["index"]  # type: ignore[no-any-return]


def example_index_pin(index: ExampleIndex) -> None:
    """Use `index` and never read `SkillExample` rows (benchmarks without a database)."""
    with _lock:
        _cache.update(index=index, signature=None, checked=float("inf"))


def example_index_clear() -> None:
    """Forget the index (tests; after staff change examples, to see them at once)."""
    with _lock:
        _cache.clear()
