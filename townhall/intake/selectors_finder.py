"""The service finder: a resident's everyday words to the services that fit, or to help.

Three readings of the words, each already shipped, are combined per service:

* the triage classifier (`selectors_triage`), trained on the council's own reports: its
  calibrated probability that a report in these words ends up under the service;
* the sentence embeddings of help search (MiniLM): the cosine between the words and the
  service's name, keywords and description, rescaled so that unrelated text (cosine ~0.15)
  scores 0 and a paraphrase (~0.6) scores 1;
* the catalogue word matcher (`catalog.finder`: names, keywords and translations, everyday
  synonyms, spelling slips), squashed to [0, 1).

score = 0.4 x triage + 0.4 x embeddings + 0.2 x words (words alone for a reader in a
language other than English, see `service_scores`). A service fits from FIT_SCORE; the
finder lists the services that fit, best first. When none fits (words about something the
council does not take reports on, such as council tax), it returns the best help articles
instead (`knowledge` search in the reader's language) and the portal points to asking a
question; when services fit, help articles that answer the words well (at or above the
help search's gap threshold) come with them ("when is my bin day").
Measured in docs/benchmarks.md (bench/finder.py) on tests/intake/data/finder_queries.jsonl.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings

from townhall.catalog import finder
from townhall.catalog.i18n import language_words
from townhall.catalog.models import ServiceType
from townhall.catalog.selectors import service_type_list
from townhall.intake.selectors_triage import triage_classifier_active
from townhall.knowledge.analysis import language_base
from townhall.knowledge.embeddings import MODEL_LANGUAGES, Vectors, embedder_get, texts_encode
from townhall.knowledge.models import Article
from townhall.knowledge.selectors import article_search, gap_threshold

WEIGHTS = {"triage": 0.4, "embeddings": 0.4, "words": 0.2}
FIT_SCORE = 0.4
# Cosine of MiniLM vectors: ~0.15 between unrelated short texts, ~0.6 for a paraphrase.
COSINE_FLOOR, COSINE_FULL = 0.15, 0.6
WORDS_SQUASH = 3.0  # a word-match score of 3 (one good keyword hit) counts half
HELP_LIMIT = 3
CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class FinderAnswer:
    """What the finder found: services that fit and help articles, each best first."""

    services: list[ServiceType]
    articles: list[Article]
    scores: dict[str, float]  # per service code, for services that scored at all
    ask: ServiceType | None = None  # where to ask a question when no service fits


@dataclass
class _Catalogue:
    services: list[ServiceType]
    words: list[finder.Indexed]
    vectors: Vectors | None
    expires: float


_lock = threading.Lock()
_cache: dict[str, _Catalogue] = {}


def finder_cache_clear() -> None:
    """Forget this process's finder index (tests; a catalogue import)."""
    with _lock:
        _cache.clear()


def _word_rows(services: Sequence[ServiceType]) -> list[tuple[str, str, list[str], str, str]]:
    """Each service with its words in every language it is translated into."""
    rows = []
    for s in services:
        names, keywords, descriptions = [s.name], list(s.keywords or []), [s.description]
        for _language, name, words, description in language_words(s.translations):
            names.append(name)
            keywords.extend(words)
            descriptions.append(description)
        groups = [s.group.name, *(g[1] for g in language_words(s.group.translations))]
        rows.append((s.code, " ".join(names), keywords, " ".join(groups), " ".join(descriptions)))
    return rows


def _service_text(service: ServiceType) -> str:
    keywords = ", ".join(service.keywords or [])
    return f"{service.name}. {keywords}. {service.description}".strip()


def _catalogue() -> _Catalogue:
    """The active services, their word index and vectors; rebuilt at most once a minute."""
    now = time.monotonic()
    found = _cache.get("catalogue")
    if found is not None and found.expires > now:
        return found
    with _lock:
        found = _cache.get("catalogue")
        if found is None or found.expires <= now:
            services = list(service_type_list())
            embedder = embedder_get()
            vectors = (
                texts_encode(embedder, [_service_text(s) for s in services])
                if embedder is not None and services
                else None
            )
            found = _Catalogue(
                services=services,
                words=finder.index_build(_word_rows(services)),
                vectors=vectors,
                expires=now + CACHE_SECONDS,
            )
            _cache["catalogue"] = found
    return found


def _triage(query: str, codes: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float64]] | None:
    active = triage_classifier_active()
    if active is None:
        return None
    classifier = active[1]
    probabilities = dict(classifier.predict_top([query], k=len(classifier.labels))[0])
    return np.array([probabilities.get(code, 0.0) for code in codes])


def _embeddings(query: str, catalogue: _Catalogue) -> np.ndarray[Any, np.dtype[np.float64]] | None:
    embedder = embedder_get()
    if embedder is None or catalogue.vectors is None:
        return None
    cosine = catalogue.vectors @ embedder.encode([query])[0]
    scaled = (cosine.astype(np.float64) - COSINE_FLOOR) / (COSINE_FULL - COSINE_FLOOR)
    return np.asarray(np.clip(scaled, 0.0, 1.0))


def _words(query: str, catalogue: _Catalogue) -> np.ndarray[Any, np.dtype[np.float64]]:
    hits = {f.code: f.score for f in finder.search(query, catalogue.words, limit=10_000)}
    raw = np.array([hits.get(s.code, 0.0) for s in catalogue.services])
    return np.asarray(raw / (raw + WORDS_SQUASH))


def service_scores(*, query: str, language: str | None = None) -> dict[str, float]:
    """The combined score of every active service for `query` (0 to 1), by service code.

    A reading that is not available (no triage model trained yet, embeddings off or
    missing) is left out and the others' weights scaled up to sum to 1, so the catalogue
    words alone still find "graffiti". A reader whose language the embedding model does not
    read (MODEL_LANGUAGES; Spanish) is matched on the catalogue's words alone, which hold
    every translation: the classifier and the embeddings learnt English."""
    catalogue = _catalogue()
    codes = [s.code for s in catalogue.services]
    if not codes or not query.strip():
        return {}
    models = language_base(language) in MODEL_LANGUAGES if language else True
    readings = {
        "triage": _triage(query, codes) if models else None,
        "embeddings": _embeddings(query, catalogue) if models else None,
        "words": _words(query, catalogue),
    }
    present = {name: r for name, r in readings.items() if r is not None}
    total = sum(WEIGHTS[name] for name in present)
    combined = np.zeros(len(codes))
    for name, reading in present.items():
        combined += WEIGHTS[name] / total * reading
    return {code: round(float(v), 4) for code, v in zip(codes, combined, strict=True)}


def service_find(*, query: str, language: str | None = None, limit: int = 10) -> FinderAnswer:
    """Services that fit `query`, best first, and help articles in the reader's `language`
    (up to HELP_LIMIT, best first): the best ones when no service fits, else only those
    that answer the words well. With no service, `ask` is the general enquiry service
    (TOWNHALL_INTAKE_FALLBACK_SERVICE) when it is active."""
    catalogue = _catalogue()
    scores = service_scores(query=query, language=language)
    by_code = {s.code: s for s in catalogue.services}
    ranked = sorted(
        (code for code, score in scores.items() if score >= FIT_SCORE),
        key=lambda code: (-scores[code], code),
    )
    services = [by_code[code] for code in ranked[:limit]]
    articles: list[Article] = []
    if query.strip():
        found = article_search(query=query, language=language, limit=HELP_LIMIT)
        good = gap_threshold()
        articles = [r.article for r in found if not services or r.score >= good]
    ask = None
    if not services:
        ask = by_code.get(getattr(settings, "TOWNHALL_INTAKE_FALLBACK_SERVICE", "general_enquiry"))
    return FinderAnswer(services=services, articles=articles, scores=scores, ask=ask)
