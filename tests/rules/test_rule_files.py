"""Run every YAML rule test case shipped beside the rules (one pytest case each)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from townhall.rules.casebook import case_run
from townhall.rules.library import (
    HERE,
    TESTS_SUFFIX,
    cases_file_load,
    rules_file_for_tests,
    rules_file_load,
)


def _collect() -> list[Any]:
    cases = []
    for path in sorted(HERE.rglob(f"*{TESTS_SUFFIX}")):
        for index, case in enumerate(cases_file_load(path)):
            name = f"{path.name.removesuffix(TESTS_SUFFIX)}:{case.get('name') or index}"
            cases.append(pytest.param(path, case, id=name))
    return cases


@pytest.mark.parametrize(("tests_path", "case"), _collect())
def test_rule_case(tests_path: Path, case: dict[str, Any]) -> None:
    result = case_run(rules_file_load(rules_file_for_tests(tests_path)), case)
    assert result.passed, "\n".join(result.problems)


def test_every_rule_file_has_tests() -> None:
    for path in sorted(HERE.rglob("*.yaml")):
        if not path.name.endswith(TESTS_SUFFIX):
            assert path.with_name(path.stem + TESTS_SUFFIX).exists(), path


def test_the_runner_reports_what_did_not_match() -> None:
    energy = rules_file_load(HERE / "programmes" / "energy_subsidy.yaml")
    result = case_run(
        energy,
        {
            "name": "wrong on purpose",
            "date": "2026-06-01",
            "inputs": {"year_built": 2010},
            "expected": {
                "outcome": "eligible",
                "amount": 1,
                "decided_by": ["income"],
                "explanation_contains": ["nowhere"],
                "colour": "red",
            },
        },
    )
    assert not result.passed
    assert result.problems == ("unknown expectation 'colour'",)
    result = case_run(
        energy,
        {
            "name": "wrong on purpose",
            "date": "2026-06-01",
            "inputs": {"year_built": 2010},
            "expected": {"outcome": "eligible", "decided_by": ["income"]},
        },
    )
    assert result.problems == (
        "outcome is not_eligible, expected eligible",
        "decided_by is ['property_age'], expected ['income']",
    )


def test_a_bad_input_in_a_case_is_a_failure_not_a_crash() -> None:
    energy = rules_file_load(HERE / "programmes" / "energy_subsidy.yaml")
    result = case_run(
        energy,
        {"name": "typo", "date": "2026-06-01", "inputs": {"cots": 1}, "expected": {}},
    )
    assert not result.passed
    assert "cots" in result.problems[0]
