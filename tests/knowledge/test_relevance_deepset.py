"""Relevance on deepset's COVID-QA paraphrase pairs, against TF-IDF and plain embeddings,
on all of them and on the part held out from tuning (`deepset_split`, issue 17).

The data has no licence for shipping, so it is read from /work/shared/data at test time
(TOWNHALL_KNOWLEDGE_DEEPSET overrides the folder) and the test skips when it is absent.
"""

from __future__ import annotations

import json
import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from townhall.knowledge.embeddings import embedder_get
from townhall.knowledge.evaluation import (
    EvalCase,
    deepset_faq_load,
    deepset_split,
    dense_titles_baseline,
    ranking_evaluate,
    tfidf_baseline,
)
from townhall.knowledge.index import SearchMode
from townhall.knowledge.models import Article
from townhall.knowledge.selectors import knowledge_index_get
from townhall.knowledge.services import articles_import

FOLDER = Path(
    os.environ.get("TOWNHALL_KNOWLEDGE_DEEPSET", "/work/shared/data/faq_deepset_covid_official")
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not (FOLDER / "eval_question_similarity_en.csv").exists(),
        reason=f"deepset COVID-QA data not found in {FOLDER} (not shipped: no licence)",
    ),
]

# Measured 2026-12-02 (bench/knowledge.py): all 244 questions hybrid 0.823, embeddings 0.784,
# TF-IDF 0.568 (1.45 x; issue 13 asked 1.5 x, see docs/knowledge.md, "Open"); the 131
# held-out questions hybrid 0.829, MiniLM on titles 0.767, BM25 0.636. Issue 17's goal is
# 0.70 held out; the test holds a margin under what was measured.
MIN_RATIO_TO_TFIDF = 1.4
MIN_HELD_OUT_MRR = 0.8


def test_hybrid_beats_embeddings_alone_and_tfidf_on_paraphrased_questions(
    tmp_path: Path,
) -> None:
    articles, queries = deepset_faq_load(FOLDER)
    articles_import(rows=articles)
    ids = dict(Article.objects.values_list("external_id", "pk"))
    cases = [EvalCase(q["query"], ids[q["expected_id"]]) for q in queries]
    index = knowledge_index_get()
    assert index.modes == [SearchMode.BM25, SearchMode.DENSE, SearchMode.HYBRID]
    hybrid = ranking_evaluate(index=index, cases=cases, mode=SearchMode.HYBRID)
    dense = ranking_evaluate(index=index, cases=cases, mode=SearchMode.DENSE)
    bm25 = ranking_evaluate(index=index, cases=cases, mode=SearchMode.BM25)
    rows = list(Article.objects.values_list("pk", "title", "body"))
    tfidf = tfidf_baseline(
        ids=[r[0] for r in rows],
        titles=[r[1] for r in rows],
        bodies=[r[2] for r in rows],
        cases=cases,
    )
    assert len(cases) > 200
    assert hybrid.mrr_at_10 >= dense.mrr_at_10
    assert hybrid.mrr_at_10 > bm25.mrr_at_10
    assert hybrid.mrr_at_10 >= MIN_RATIO_TO_TFIDF * tfidf.mrr_at_10
    # the same measures through the eval command, on an eval file generated here
    path = tmp_path / "eval.jsonl"
    path.write_text("\n".join(json.dumps(q) for q in queries[:20]), encoding="utf-8")
    out = StringIO()
    call_command("knowledge", "eval", str(path), stdout=out)
    assert "hybrid" in out.getvalue()


def test_hybrid_reaches_the_goal_on_paraphrases_held_out_from_tuning() -> None:
    articles, queries = deepset_faq_load(FOLDER)
    _, held = deepset_split(articles, queries)
    articles_import(rows=articles)
    ids = dict(Article.objects.values_list("external_id", "pk"))
    cases = [EvalCase(q["query"], ids[q["expected_id"]]) for q in held]
    index = knowledge_index_get()
    hybrid = ranking_evaluate(index=index, cases=cases, mode=SearchMode.HYBRID)
    bm25 = ranking_evaluate(index=index, cases=cases, mode=SearchMode.BM25)
    embedder = embedder_get()
    assert embedder is not None
    rows = list(Article.objects.values_list("pk", "title"))
    titles = dense_titles_baseline(
        embedder=embedder, titles=[r[1] for r in rows], ids=[r[0] for r in rows], cases=cases
    )
    assert len(cases) == 131
    assert hybrid.mrr_at_10 >= MIN_HELD_OUT_MRR
    assert hybrid.mrr_at_10 > titles.mrr_at_10 + 0.03  # the same model, plainly on titles
    assert hybrid.mrr_at_10 > bm25.mrr_at_10 + 0.1
