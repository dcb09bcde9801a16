"""`townhall rules test|check|eval`."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from townhall.rules.library import PROGRAMMES_DIR


def run(*args: str) -> str:
    out = StringIO()
    call_command("rules", *args, stdout=out)
    return out.getvalue()


def test_rules_test_runs_every_shipped_case() -> None:
    output = run("test")
    assert "PASS energy_subsidy.yaml: a new home does not qualify" in output
    assert "FAIL" not in output
    assert output.strip().endswith("rule test(s) passed.")


def test_rules_test_fails_with_the_failing_cases(tmp_path: Path) -> None:
    rules = tmp_path / "energy.yaml"
    rules.write_text((PROGRAMMES_DIR / "energy_subsidy.yaml").read_text())
    cases = [
        {
            "name": "wrong",
            "date": "2026-06-01",
            "inputs": {"year_built": 2010},
            "expected": {"outcome": "eligible"},
        }
    ]
    (tmp_path / "energy.tests.yaml").write_text(yaml.safe_dump(cases))
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 1 rule test"):
        call_command("rules", "test", str(tmp_path / "energy.tests.yaml"), stdout=out)
    assert "FAIL energy.yaml: wrong" in out.getvalue()
    assert "outcome is not_eligible, expected eligible" in out.getvalue()


def test_rules_check_lists_each_problem_with_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: Bad\ntitle: x\ninputs: {}\nversions: []\n")
    out = StringIO()
    with pytest.raises(CommandError, match="1 invalid"):
        call_command(
            "rules", "check", str(bad), str(PROGRAMMES_DIR / "energy_subsidy.yaml"), stdout=out
        )
    text = out.getvalue()
    assert "id: must be lower-case" in text
    assert "inputs: must be a non-empty mapping" in text
    assert "OK " in text and "energy_subsidy" in text


@pytest.mark.django_db
def test_rules_eval_prints_the_outcome_and_why() -> None:
    output = run(
        "eval",
        "energy_subsidy",
        "--date",
        "2026-06-01",
        "--language",
        "es",
        "--input",
        "year_built=2010",
    )
    assert "Outcome: not_eligible" in output
    assert "* [fail] property_age: Las viviendas construidas en 2006" in output
    assert "Source: https://council.example.org/demo/energy-grant/2026" in output


@pytest.mark.django_db
def test_rules_eval_refuses_bad_input_cleanly() -> None:
    with pytest.raises(CommandError, match="household_size: must be a number"):
        run("eval", "energy_subsidy", "--input", "household_size=lots")
    with pytest.raises(CommandError, match="expected KEY=VALUE"):
        run("eval", "energy_subsidy", "--input", "household_size")


def test_the_command_has_help() -> None:
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("rules", "--help", stdout=out)
