"""Run rule test cases (inputs → expected outcome and explanation), OpenFisca-style. Pure.

A programme case::

    - name: a couple below the income limit gets 30% of the cost
      date: 2026-06-01
      language: es            # optional, default en
      inputs: {household_size: 2, household_income: 40000}
      expected:
        outcome: eligible      # eligible | not_eligible | need_more_information
        amount: 3000           # optional
        decided_by: [income]   # optional, exact set of deciding condition ids
        missing: [cost]        # optional, exact set of inputs still needed
        explanation_contains: ["below the limit"]  # optional, each must appear

A permit tree case::

    - name: new kitchen in a flat
      answers: [[what, kitchen], [building, flat]]   # or a mapping, in order
      expected: {permits: [building_notice], total_fee: 120, processing_days: 15}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from townhall.core.errors import DomainError, ValidationFailed
from townhall.rules.evaluation import inputs_coerce, programme_evaluate
from townhall.rules.permits import permit_tree_walk
from townhall.rules.schema import PermitTree, Programme

PROGRAMME_EXPECTED = {"outcome", "amount", "decided_by", "missing", "explanation_contains"}
PERMIT_EXPECTED = {"permits", "total_fee", "processing_days"}


@dataclass(frozen=True)
class CaseResult:
    name: str
    passed: bool
    problems: tuple[str, ...]


def case_run(rule: Programme | PermitTree, case: Mapping[str, Any]) -> CaseResult:
    """Run one test case against `rule` and say what, if anything, did not match."""
    name = str(case.get("name") or "(unnamed case)")
    try:
        if isinstance(rule, Programme):
            problems = _programme_case(rule, case)
        else:
            problems = _permit_case(rule, case)
    except DomainError as error:
        details = "; ".join(f"{k}: {', '.join(v)}" for k, v in error.details.items())
        problems = [f"error {error.code}: {error.message}" + (f" ({details})" if details else "")]
    return CaseResult(name, not problems, tuple(problems))


def cases_run(rule: Programme | PermitTree, cases: Sequence[Mapping[str, Any]]) -> list[CaseResult]:
    """Run every case against `rule`."""
    return [case_run(rule, case) for case in cases]


def _keys(case: Mapping[str, Any], required: set[str], optional: set[str]) -> list[str]:
    problems = [f"the case needs {key!r}" for key in sorted(required - set(case))]
    problems += [f"unknown key {key!r}" for key in sorted(set(case) - required - optional)]
    return problems


def _programme_case(rule: Programme, case: Mapping[str, Any]) -> list[str]:
    problems = _keys(case, {"name", "date", "expected"}, {"inputs", "language"})
    expected = case.get("expected")
    if not isinstance(expected, dict):
        return [*problems, "expected must be a mapping"]
    problems += [f"unknown expectation {k!r}" for k in sorted(set(expected) - PROGRAMME_EXPECTED)]
    on = case.get("date")
    if isinstance(on, str):
        on = date.fromisoformat(on)
    if not isinstance(on, date):
        return [*problems, "date must be a date (YYYY-MM-DD)"]
    if problems:
        return problems
    inputs = inputs_coerce(rule, case.get("inputs") or {})
    decision = programme_evaluate(
        rule, inputs=inputs, on=on, language=str(case.get("language", "en"))
    )
    if "outcome" in expected and decision.outcome != expected["outcome"]:
        problems.append(f"outcome is {decision.outcome}, expected {expected['outcome']}")
    if "amount" in expected:
        want = None if expected["amount"] is None else Decimal(str(expected["amount"]))
        if decision.amount != want:
            problems.append(f"amount is {decision.amount}, expected {want}")
    for key, got in (("decided_by", decision.decided_by), ("missing", decision.missing)):
        if key in expected and set(got) != set(expected[key] or []):
            problems.append(f"{key} is {sorted(got)}, expected {sorted(expected[key] or [])}")
    text = decision.explanation
    for fragment in expected.get("explanation_contains") or []:
        if str(fragment) not in text:
            problems.append(f"explanation lacks {fragment!r}: {text!r}")
    return problems


def _permit_case(rule: PermitTree, case: Mapping[str, Any]) -> list[str]:
    problems = _keys(case, {"name", "answers", "expected"}, set())
    expected = case.get("expected")
    if not isinstance(expected, dict):
        return [*problems, "expected must be a mapping"]
    problems += [f"unknown expectation {k!r}" for k in sorted(set(expected) - PERMIT_EXPECTED)]
    raw = case.get("answers")
    if isinstance(raw, dict):
        answers = [(str(k), str(v)) for k, v in raw.items()]
    elif isinstance(raw, list) and all(isinstance(a, list) and len(a) == 2 for a in raw):
        answers = [(str(a[0]), str(a[1])) for a in raw]
    else:
        return [*problems, "answers must be a mapping or a list of [question, choice] pairs"]
    if problems:
        return problems
    step = permit_tree_walk(rule, answers=answers)
    if not step.finished:
        raise ValidationFailed(
            "The answers stop before the end",
            details={"answers": [f"question {step.question.id!r} is still open"]}
            if step.question
            else {},
        )
    got = [p.id for p in step.permits]
    if "permits" in expected and set(got) != set(expected["permits"] or []):
        problems.append(f"permits are {sorted(got)}, expected {sorted(expected['permits'] or [])}")
    if "total_fee" in expected and step.total_fee != Decimal(str(expected["total_fee"])):
        problems.append(f"total fee is {step.total_fee}, expected {expected['total_fee']}")
    if (
        "processing_days" in expected
        and step.longest_processing_days != expected["processing_days"]
    ):
        problems.append(
            f"processing takes {step.longest_processing_days} days, "
            f"expected {expected['processing_days']}"
        )
    return problems
