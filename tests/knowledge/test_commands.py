"""`townhall knowledge import|eval|gaps` on small JSONL files."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from townhall.knowledge.models import Article, SearchLog

pytestmark = pytest.mark.django_db

ARTICLES = [
    {"id": "a1", "title": "Bin collection days", "body": "Bins are emptied weekly.", "tags": []},
    {"id": "a2", "title": "Council tax payments", "body": "Pay by direct debit.", "tags": ["tax"]},
    {
        "id": "a3",
        "title": "Parking permits",
        "body": "Apply for a resident permit.",
        "language": "en",
    },
]


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _run(*args: str) -> str:
    out = StringIO()
    call_command("knowledge", *args, stdout=out, stderr=StringIO(), verbosity=0)
    return out.getvalue()


def test_import_creates_then_updates_published_articles(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.jsonl", ARTICLES)
    assert "3 created, 0 updated" in _run("import", str(path))
    assert "0 created, 3 updated" in _run("import", str(path))
    assert Article.objects.filter(status="published").count() == 3
    assert Article.objects.get(external_id="a2").tags == ["tax"]


def test_import_refuses_a_file_with_a_bad_line_and_imports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(ARTICLES[0]) + "\n{not json\n" + json.dumps({"id": "x"}) + "\n")
    with pytest.raises(CommandError, match="line 2"):
        _run("import", str(path))
    assert not Article.objects.exists()


def test_eval_prints_the_measures_for_each_mode(tmp_path: Path) -> None:
    _run("import", str(_write(tmp_path / "a.jsonl", ARTICLES)))
    queries = [
        {"query": "when are the bins emptied", "expected_id": "a1"},
        {"query": "paying my council tax", "expected_id": "a2"},
    ]
    out = _run("eval", str(_write(tmp_path / "q.jsonl", queries)))
    assert "MRR@10" in out and "p95 ms" in out
    for mode in ("bm25", "dense", "hybrid"):
        assert f"\n{mode} " in out
    hybrid = next(line for line in out.splitlines() if line.startswith("hybrid"))
    assert hybrid.split()[2] == "1.000"


def test_gaps_clusters_unanswered_searches() -> None:
    for query in ["dog fouling", "dog mess", "wedding venue"]:
        SearchLog.objects.create(query=query, answered=False)
    SearchLog.objects.create(query="bins", answered=True)
    out = _run("gaps", "--clusters", "2")
    assert "dog" in out and "wedding" in out and "bins" not in out
