"""Benchmark: help search per language (issue 16), before and after, against plain embeddings.

Before: every article and query analysed with English stop words and no stemming, and the
portal searching all languages (it did not pass the reader's). After: each article analysed
in its own language (stop words and PyStemmer's Snowball stemmer), the query in the
reader's, only the reader's language ranked (the selector's fallback to every language when nothing
there matches at all), and hybrid search using BM25 alone for articles in a language the
embedding model does not read. Reference: MiniLM embeddings alone
(the shipped model), in the same run.

Held-out sets (none used to choose anything here):
- deepset COVID-QA English: 209 FAQ articles, 244 paraphrased questions;
- deepset COVID-QA German (faq_200327.tsv, lang de): 390 articles, 236 paraphrased
  questions (eval_question_similarity_de.csv, similar = 1, first question an FAQ title);
- the demo's 35 help articles (28 English, 7 Spanish) with the 18 Spanish questions of
  tests/knowledge/data/help_questions_es.jsonl, written before the change, asked by a
  Spanish reader.

    .venv/bin/python bench/knowledge_languages.py [--deepset DIR] [--smoke]

--smoke (make test) runs the demo's Spanish questions only: the deepset files live outside the
repository.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townhall.settings")
SPANISH_QUESTIONS = ROOT / "tests/knowledge/data/help_questions_es.jsonl"


def german_faq(folder: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    csv.field_size_limit(1 << 26)
    with (folder / "faq_200327.tsv").open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["lang"] == "de"]
    articles, by_title = [], {}
    for row in rows:
        title = row["question"].strip()
        if title and title not in by_title:
            by_title[title] = len(articles)
            articles.append({"title": title, "body": row["answer"], "language": "de"})
    with (folder / "eval_question_similarity_de.csv").open(encoding="utf-8") as handle:
        pairs = list(csv.DictReader(handle))
    queries = [
        {"query": p["question_2"].strip(), "expected": by_title[p["question_1"].strip()]}
        for p in pairs
        if p["similar"] == "1" and p["question_1"].strip() in by_title
    ]
    return articles, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--deepset", type=Path, default=Path("/work/shared/data/faq_deepset_covid_official")
    )
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from smoke import add_smoke  # bench/smoke.py

    add_smoke(parser)
    args = parser.parse_args()
    import django

    django.setup()
    from townhall.knowledge.analysis import english_unstemmed
    from townhall.knowledge.demo import demo_articles_read
    from townhall.knowledge.embeddings import embedder_get, texts_encode
    from townhall.knowledge.evaluation import (
        EvalCase,
        EvalReport,
        _report,
        deepset_faq_load,
        report_table,
    )
    from townhall.knowledge.index import HybridIndex, IndexedDoc, SearchMode

    embedder = embedder_get()
    assert embedder is not None, "the MiniLM model is needed for this benchmark"

    def docs_of(articles: Sequence[dict[str, Any]]) -> list[IndexedDoc]:
        titles = texts_encode(embedder, [a["title"] for a in articles])
        bodies = texts_encode(embedder, [a["body"] for a in articles])
        return [
            IndexedDoc(n, a["language"], a["title"], a["body"], titles[n], bodies[n])
            for n, a in enumerate(articles)
        ]

    def runs(docs: list[IndexedDoc], cases: list[EvalCase], reader: str) -> list[EvalReport]:
        before = HybridIndex(
            docs, embedder, analysers=lambda _language: english_unstemmed, model_languages=None
        )
        after = HybridIndex(docs, embedder)

        def ranked(index: HybridIndex, mode: SearchMode, language: str | None) -> Callable:
            def ids(query: str) -> list[int]:
                hits = index.search(query, limit=10, mode=mode, language=language)
                if language and (not hits or hits[0][1] <= 0):
                    hits = index.search(query, limit=10, mode=mode)
                return [pk for pk, _ in hits]

            return ids

        return [
            _report("dense", cases, ranked(after, SearchMode.DENSE, None)),
            _report("bm25-old", cases, ranked(before, SearchMode.BM25, None)),
            _report("bm25-new", cases, ranked(after, SearchMode.BM25, reader)),
            _report("hyb-old", cases, ranked(before, SearchMode.HYBRID, None)),
            _report("hyb-new", cases, ranked(after, SearchMode.HYBRID, reader)),
        ]

    if not args.smoke:  # the deepset files are outside the repository
        english, english_queries = deepset_faq_load(args.deepset)
        number = {a["id"]: n for n, a in enumerate(english)}
        cases = [EvalCase(q["query"], number[q["expected_id"]]) for q in english_queries]
        print(f"## deepset English: {len(english)} articles, {len(cases)} questions")
        print(report_table(runs(docs_of(english), cases, "en")))

        german, german_queries = german_faq(args.deepset)
        cases = [EvalCase(q["query"], q["expected"]) for q in german_queries]
        print(f"\n## deepset German: {len(german)} articles, {len(cases)} questions")
        print(report_table(runs(docs_of(german), cases, "de")))

    demo = [
        {"id": r["id"], "title": r["title"], "body": r["body"], "language": r["language"]}
        for r in demo_articles_read()
    ]
    number = {a["id"]: n for n, a in enumerate(demo)}
    lines = SPANISH_QUESTIONS.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line) for line in lines if line.strip()]
    cases = [EvalCase(q["query"], number[q["expected_id"]]) for q in questions]
    print(f"\n## demo help, Spanish reader: {len(demo)} articles, {len(cases)} questions")
    print(report_table(runs(docs_of(demo), cases, "es")))
    if args.smoke:
        print("smoke: ok")


if __name__ == "__main__":
    main()
