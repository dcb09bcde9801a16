"""`townhall assistant eval`: labelled utterances in, one `name: value` per line out."""

from __future__ import annotations

import json
import math
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from townhall.assistant.evaluation import clinc_rows, scores_compute


def run(*args: str) -> dict[str, str]:
    out = StringIO()
    call_command("assistant", *args, stdout=out, stderr=StringIO())
    lines = out.getvalue().strip().splitlines()
    assert all(line.count(": ") == 1 for line in lines), lines
    return dict(line.split(": ") for line in lines)


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_scores_by_hand() -> None:
    expected = ["faq", "faq", "greeting", "out_of_scope", "out_of_scope"]
    predicted = ["faq", "out_of_scope", "greeting", "out_of_scope", "faq"]
    accuracy, macro_f1, precision, recall, oos_p, oos_r = scores_compute(expected, predicted)
    assert accuracy == pytest.approx(2 / 3)
    assert precision["faq"] == pytest.approx(0.5) and recall["faq"] == pytest.approx(0.5)
    assert (oos_p, oos_r) == (pytest.approx(0.5), pytest.approx(0.5))
    assert macro_f1 == pytest.approx((0.5 + 1.0 + 0.5) / 3)
    assert math.isnan(scores_compute(["out_of_scope"], ["out_of_scope"])[0])


def test_the_command_prints_every_figure(db: Any, tmp_path: Path) -> None:
    path = write(
        tmp_path / "set.jsonl",
        [
            {"utterance": "when is my bin collected", "expected_skill": "waste_schedule"},
            {
                "utterance": "hay un bache en mi calle",
                "expected_skill": "report_issue",
                "language": "es",
            },
            {"utterance": "tell me a joke about penguins", "expected_skill": "out_of_scope"},
        ],
    )
    figures = run("eval", str(path))
    for name in (
        "in_scope_accuracy",
        "macro_f1",
        "precision[waste_schedule]",
        "recall[report_issue]",
        "oos_precision",
        "oos_recall",
        "latency_p50_ms",
        "latency_p95_ms",
    ):
        assert name in figures, figures
    assert figures["in_scope_accuracy"] == "1.0000"
    assert figures["oos_recall"] == "1.0000"
    assert float(figures["latency_p95_ms"]) >= float(figures["latency_p50_ms"]) > 0


def test_clinc_reads_as_out_of_scope_but_small_talk(db: Any, tmp_path: Path) -> None:
    clinc = tmp_path / "clinc.json"
    clinc.write_text(
        json.dumps(
            {
                "train": [["book a flight", "book_flight"]],
                "oos_train": [["how tall is a giraffe", "oos"]],
                "val": [["hello there", "greeting"], ["what's my credit score", "credit_score"]],
                "oos_val": [["who painted the mona lisa", "oos"]],
            }
        )
    )
    rows = clinc_rows(clinc, split="val")
    assert [r.expected for r in rows] == ["greeting", "out_of_scope", "out_of_scope"]
    assert {r.expected for r in clinc_rows(clinc, split="val", strict=True)} == {"out_of_scope"}
    out = tmp_path / "val.jsonl"
    assert run("eval", "--clinc", str(clinc), "--write", str(out)) == {"rows": "3"}
    assert json.loads(out.read_text().splitlines()[0])["expected_skill"] == "greeting"
    figures = run("eval", "--clinc", str(clinc), "--split", "val")
    assert figures["rows"] == "3"


def test_bad_input_is_a_clear_error(db: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such file"):
        run("eval", str(tmp_path / "missing.jsonl"))
    bad = write(tmp_path / "bad.jsonl", [{"text": "hi"}])
    with pytest.raises(CommandError, match=":1: needs 'utterance'"):
        run("eval", str(bad))
    with pytest.raises(CommandError, match="either FILE"):
        run("eval")
