"""Retrieval quality and latency: MRR@10, recall@1, recall@5, p50/p95 per query."""

from __future__ import annotations

import csv
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from townhall.knowledge.embeddings import Embedder, texts_encode
from townhall.knowledge.index import HybridIndex, SearchMode


@dataclass(frozen=True)
class EvalCase:
    query: str
    expected_article_id: int


@dataclass(frozen=True)
class EvalReport:
    mode: str
    queries: int
    mrr_at_10: float
    recall_at_1: float
    recall_at_5: float
    p50_ms: float
    p95_ms: float


def _report(
    mode: str, cases: Sequence[EvalCase], ranked_ids: Callable[[str], list[int]]
) -> EvalReport:
    """Time `ranked_ids` (a query's top 10 article ids) on every case and score the ranks."""
    reciprocal, hit1, hit5, timings = [], 0, 0, []
    for case in cases:
        started = time.perf_counter()
        ranked = ranked_ids(case.query)
        timings.append((time.perf_counter() - started) * 1000)
        rank = (
            ranked.index(case.expected_article_id) + 1 if case.expected_article_id in ranked else 0
        )
        reciprocal.append(1 / rank if rank else 0.0)
        hit1 += rank == 1
        hit5 += 0 < rank <= 5
    n = max(len(cases), 1)
    return EvalReport(
        mode=mode,
        queries=len(cases),
        mrr_at_10=float(sum(reciprocal) / n),
        recall_at_1=hit1 / n,
        recall_at_5=hit5 / n,
        p50_ms=float(np.percentile(timings, 50)) if timings else 0.0,
        p95_ms=float(np.percentile(timings, 95)) if timings else 0.0,
    )


def ranking_evaluate(
    *, index: HybridIndex, cases: Sequence[EvalCase], mode: SearchMode
) -> EvalReport:
    """Run every case through `index` in `mode` and measure ranking quality and latency."""
    return _report(
        mode.value,
        cases,
        lambda query: [pk for pk, _ in index.search(query, limit=10, mode=mode)],
    )


def tfidf_baseline(
    *, titles: Sequence[str], bodies: Sequence[str], ids: Sequence[int], cases: Sequence[EvalCase]
) -> EvalReport:
    """The reference: scikit-learn TfidfVectorizer over title + body, cosine ranking."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer()
    matrix = vectorizer.fit_transform([f"{t}\n{b}" for t, b in zip(titles, bodies, strict=True)])
    order = np.array(ids)

    def ranked_ids(query: str) -> list[int]:
        scores = (matrix @ vectorizer.transform([query]).T).toarray().ravel()
        return [int(pk) for pk in order[np.argsort(-scores, kind="stable")[:10]]]

    return _report("tfidf", cases, ranked_ids)


def dense_titles_baseline(
    *, embedder: Embedder, titles: Sequence[str], ids: Sequence[int], cases: Sequence[EvalCase]
) -> EvalReport:
    """The simplest embedding search: the same model, cosine to the titles alone, no BM25."""
    matrix = texts_encode(embedder, titles)
    order = np.array(ids)

    def ranked_ids(query: str) -> list[int]:
        scores = matrix @ embedder.encode([query])[0]
        return [int(pk) for pk in order[np.argsort(-scores, kind="stable")[:10]]]

    return _report("titles", cases, ranked_ids)


def report_table(reports: Sequence[EvalReport]) -> str:
    """Format reports as a fixed-width table."""
    lines = [
        f"{'mode':<8} {'n':>5} {'MRR@10':>7} {'R@1':>6} {'R@5':>6} {'p50 ms':>7} {'p95 ms':>7}"
    ]
    for r in reports:
        lines.append(
            f"{r.mode:<8} {r.queries:>5} {r.mrr_at_10:>7.3f} {r.recall_at_1:>6.3f} "
            f"{r.recall_at_5:>6.3f} {r.p50_ms:>7.2f} {r.p95_ms:>7.2f}"
        )
    return "\n".join(lines)


def deepset_faq_load(folder: Path) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Read deepset's COVID-QA English FAQ and its paraphrase pairs (not shipped: no licence
    for that). Return article rows (id, title, body, language, tags) and eval rows (query,
    expected_id): each similar pair whose first question is an FAQ title asks the second."""
    with (folder / "faq_covidbert.csv").open(encoding="utf-8", newline="") as handle:
        faq = [row for row in csv.DictReader(handle) if row["lang"] == "en"]
    articles, by_title = [], {}
    for number, row in enumerate(faq, start=1):
        title = row["question"].strip()
        if title in by_title:
            continue
        by_title[title] = f"faq-{number}"
        tags = [row["category"]] if row.get("category") else []
        articles.append(
            {
                "id": by_title[title],
                "title": title,
                "body": row["answer"],
                "language": "en",
                "tags": tags,
            }
        )
    with (folder / "eval_question_similarity_en.csv").open(encoding="utf-8", newline="") as handle:
        pairs = list(csv.DictReader(handle))
    queries = [
        {"query": pair["question_2"].strip(), "expected_id": by_title[pair["question_1"].strip()]}
        for pair in pairs
        if pair["similar"] == "1" and pair["question_1"].strip() in by_title
    ]
    return articles, queries


def deepset_split(
    articles: Sequence[dict[str, Any]], queries: Sequence[dict[str, str]]
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Split deepset's paraphrased questions into (tuning, held out), by the article asked.

    An article is held out when the SHA-256 of its title is odd, so every paraphrase of it is
    held out together and tuning never sees a question about it (a split by pair would let
    the tuning learn the article from its sibling paraphrases). Deterministic, no seed: 113
    tuning questions about 45 articles, 131 held-out questions about 47. Fusion weights are
    chosen on the first part only; the second is what the goal is measured on.
    """
    titles = {a["id"]: a["title"] for a in articles}

    def held(query: dict[str, str]) -> bool:
        title = titles[query["expected_id"]]
        return int(hashlib.sha256(title.encode("utf-8")).hexdigest(), 16) % 2 == 1

    return [q for q in queries if not held(q)], [q for q in queries if held(q)]
