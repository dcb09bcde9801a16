"""Measuring understanding: labelled utterances in, accuracy, F1, out-of-scope precision and
recall and latency out (`townhall assistant eval`, bench/assistant.py).

Rows are `{"utterance", "expected_skill", "language"?}`; `out_of_scope` is expected for a
message no skill should take. CLINC150 (Larson et al., 2019: 150 intents of a personal
assistant and banking bot, plus its own out-of-scope sentences) reads as such rows: a council
answers none of its intents, except four that are our `greeting` skill's small talk
(greeting, goodbye, thank_you, what_can_i_ask_you): those expect `greeting`, unless
`strict`, which expects out_of_scope for every CLINC row as the issue words it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from townhall.assistant.nlu_index import OUT_OF_SCOPE

CLINC_GREETING = frozenset({"greeting", "goodbye", "thank_you", "what_can_i_ask_you"})
CLINC_SPLITS = {"train": ("train", "oos_train"), "val": ("val", "oos_val")}


@dataclass(frozen=True)
class EvalRow:
    utterance: str
    expected: str
    language: str = "en"


def eval_rows(raw: Iterable[dict[str, Any]], *, where: str = "") -> list[EvalRow]:
    """Rows from parsed JSONL; raises ValueError naming the first bad line."""
    rows = []
    for number, item in enumerate(raw, start=1):
        utterance, expected = item.get("utterance"), item.get("expected_skill")
        if not isinstance(utterance, str) or not isinstance(expected, str) or not expected:
            raise ValueError(f"{where}:{number}: needs 'utterance' and 'expected_skill'")
        rows.append(EvalRow(utterance, expected, str(item.get("language") or "en")))
    return rows


def jsonl_rows(path: Path) -> list[EvalRow]:
    with path.open(encoding="utf-8") as handle:
        raw = [json.loads(line) for line in handle if line.strip()]
    return eval_rows(raw, where=str(path))


def clinc_rows(path: Path, *, split: str = "val", strict: bool = False) -> list[EvalRow]:
    """CLINC150's `split` (train or val) with its out-of-scope sentences, as eval rows."""
    if split not in CLINC_SPLITS:
        raise ValueError(f"split must be one of {sorted(CLINC_SPLITS)}")
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = []
    for key in CLINC_SPLITS[split]:
        for text, intent in data[key]:
            greeting = intent in CLINC_GREETING and not strict
            rows.append(EvalRow(text, "greeting" if greeting else OUT_OF_SCOPE, "en"))
    return rows


@dataclass
class EvalReport:
    rows: int
    in_scope_accuracy: float
    macro_f1: float
    precision: dict[str, float] = field(default_factory=dict)
    recall: dict[str, float] = field(default_factory=dict)
    oos_precision: float = math.nan
    oos_recall: float = math.nan
    latency_p50_ms: float = 0.0
    latency_p95_ms: float = 0.0
    ambiguous_rate: float = 0.0
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # utterance, expected, got


def _ratio(num: int, den: int) -> float:
    return num / den if den else math.nan


def scores_compute(
    expected: list[str], predicted: list[str]
) -> tuple[float, float, dict[str, float], dict[str, float], float, float]:
    """In-scope accuracy, macro-F1 (every class seen, out_of_scope included), precision and
    recall per in-scope skill, out-of-scope precision and recall."""
    pairs = list(zip(expected, predicted, strict=True))
    in_scope = [(e, p) for e, p in pairs if e != OUT_OF_SCOPE]
    accuracy = _ratio(sum(e == p for e, p in in_scope), len(in_scope))
    classes = sorted(set(expected) | set(predicted))
    precision, recall, f1s = {}, {}, []
    for name in classes:
        tp = sum(e == p == name for e, p in pairs)
        p_ = _ratio(tp, sum(p == name for _, p in pairs))
        r_ = _ratio(tp, sum(e == name for e, _ in pairs))
        if name != OUT_OF_SCOPE:
            precision[name], recall[name] = p_, r_
        if name in expected:  # F1 of a class never expected is not defined by this set
            p0, r0 = (0.0 if math.isnan(p_) else p_), (0.0 if math.isnan(r_) else r_)
            f1s.append(2 * p0 * r0 / (p0 + r0) if p0 + r0 else 0.0)
    macro_f1 = float(np.mean(f1s)) if f1s else math.nan
    oos_tp = sum(e == p == OUT_OF_SCOPE for e, p in pairs)
    oos_precision = _ratio(oos_tp, sum(p == OUT_OF_SCOPE for p in predicted))
    oos_recall = _ratio(oos_tp, sum(e == OUT_OF_SCOPE for e in expected))
    return accuracy, macro_f1, precision, recall, oos_precision, oos_recall


Classifier = Callable[[str, str], tuple[str, bool]]  # (text, language) -> (skill, ambiguous)


def understand_classifier(*, sparse_only: bool = False) -> Classifier:
    from townhall.assistant.nlu import understand

    def classify(text: str, language: str) -> tuple[str, bool]:
        result = understand(text, language=language, entities=False, sparse_only=sparse_only)
        return result.skill, result.ambiguous

    return classify


def understanding_evaluate(rows: list[EvalRow], classify: Classifier) -> EvalReport:
    """Classify every row one at a time (as a conversation would), timing each call."""
    predicted, timings, ambiguous = [], [], 0
    for row in rows:
        started = time.perf_counter()
        skill, unsure = classify(row.utterance, row.language)
        timings.append((time.perf_counter() - started) * 1000)
        predicted.append(skill)
        ambiguous += unsure
    expected = [r.expected for r in rows]
    accuracy, macro_f1, precision, recall, oos_p, oos_r = scores_compute(expected, predicted)
    return EvalReport(
        rows=len(rows),
        in_scope_accuracy=accuracy,
        macro_f1=macro_f1,
        precision=precision,
        recall=recall,
        oos_precision=oos_p,
        oos_recall=oos_r,
        latency_p50_ms=float(np.percentile(timings, 50)) if timings else 0.0,
        latency_p95_ms=float(np.percentile(timings, 95)) if timings else 0.0,
        ambiguous_rate=_ratio(ambiguous, len(rows)),
        errors=[
            (r.utterance, r.expected, p)
            for r, p in zip(rows, predicted, strict=True)
            if r.expected != p
        ],
    )


def _value(number: float, digits: int = 4) -> str:
    return "n/a" if math.isnan(number) else f"{number:.{digits}f}"


def report_lines(report: EvalReport) -> list[str]:
    """One `name: value` per line, in a fixed order (scripts read them)."""
    lines = [
        f"rows: {report.rows}",
        f"in_scope_accuracy: {_value(report.in_scope_accuracy)}",
        f"macro_f1: {_value(report.macro_f1)}",
    ]
    for skill in sorted(report.precision):
        lines.append(f"precision[{skill}]: {_value(report.precision[skill])}")
        lines.append(f"recall[{skill}]: {_value(report.recall[skill])}")
    lines += [
        f"oos_precision: {_value(report.oos_precision)}",
        f"oos_recall: {_value(report.oos_recall)}",
        f"ambiguous_rate: {_value(report.ambiguous_rate)}",
        f"latency_p50_ms: {report.latency_p50_ms:.2f}",
        f"latency_p95_ms: {report.latency_p95_ms:.2f}",
    ]
    return lines
