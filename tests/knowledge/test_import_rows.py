"""Article and evaluation files: every bad row reported at once, by its line."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from townhall.core.errors import ValidationFailed
from townhall.knowledge.importing import article_rows, eval_rows
from townhall.knowledge.models import Article


def test_every_bad_article_row_is_listed_with_its_line() -> None:
    rows = [
        {"id": "a1", "title": "Bins", "body": "Weekly."},
        {"id": "a2", "title": " ", "body": ""},
        {"id": 3, "title": "Tax", "body": "Pay.", "tags": "tax"},
        {"id": "a4", "title": "Parking", "body": "Permits.", "language": 7},
    ]
    with pytest.raises(ValidationFailed) as raised:
        article_rows(rows)
    assert raised.value.details == {
        "line 2": ["missing title, body"],
        "line 3": ["tags must be a list"],
        "line 4": ["language: Input should be a valid string"],
    }


def test_good_rows_come_back_as_text() -> None:
    [row] = article_rows([{"id": 12, "title": "Bins", "body": "Weekly.", "tags": ["x"]}])
    assert (row.id, row.title, row.language, row.tags) == ("12", "Bins", None, ["x"])


def test_every_bad_eval_row_is_listed() -> None:
    with pytest.raises(ValidationFailed) as raised:
        eval_rows([{"query": "bins"}, {"query": "tax", "expected_id": 4}, {}], where="e.jsonl")
    assert raised.value.details == {
        "line 1": ["needs query and expected_id"],
        "line 3": ["needs query and expected_id"],
    }
    assert raised.value.message == "e.jsonl is not valid."


@pytest.mark.django_db
def test_the_command_prints_every_problem_and_imports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    rows = [{"id": "a1", "title": "Bins", "body": "Weekly."}, {"id": "a2"}, {"title": "x"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    with pytest.raises(CommandError) as raised:
        call_command("knowledge", "import", str(path), stdout=StringIO(), verbosity=0)
    assert "line 2: missing title, body" in str(raised.value)
    assert "line 3: missing id, body" in str(raised.value)
    assert not Article.objects.exists()
