"""The JSON Schema published for editors matches the models and accepts the shipped files."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from jsonschema import Draft202012Validator

from tests.rules.test_evaluation import GRANT
from tests.rules.test_schema import TREE
from townhall.rules.library import rules_files, yaml_parse
from townhall.rules.spec import SCHEMA_FILE, rules_json_schema_text


def as_json(data: Any) -> Any:
    """A YAML document as an editor's language server sees it (dates and keys as text)."""
    return json.loads(json.dumps(data, default=str))


def messages(errors: Any) -> set[str]:
    """Every message, those under an anyOf (programme or permit tree, text or mapping) too."""
    found: set[str] = set()
    for error in errors:
        found.add(error.message)
        found |= messages(error.context or [])
    return found


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_the_committed_schema_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == rules_json_schema_text(), (
        "docs/schemas/rules.schema.json is stale: run `townhall rules schema`"
    )
    call_command("rules", "schema", "--check")


def test_the_check_fails_on_a_stale_file(tmp_path: Any) -> None:
    stale = tmp_path / "rules.schema.json"
    stale.write_text("{}\n")
    with pytest.raises(CommandError, match="out of date"):
        call_command("rules", "schema", "--check", "--output", str(stale))
    call_command("rules", "schema", "--output", str(stale))
    assert stale.read_text() == rules_json_schema_text()


def test_every_shipped_file_and_example_is_valid(validator: Draft202012Validator) -> None:
    documents = [yaml_parse(p.read_text()) for p in rules_files()] + [GRANT, TREE]
    for data in documents:
        errors = [e.message for e in validator.iter_errors(as_json(data))]
        assert errors == [], (data["id"], errors)


def test_editors_are_told_of_shape_problems(validator: Draft202012Validator) -> None:
    data = copy.deepcopy(GRANT)
    data["colour"] = "red"
    data["inputs"]["size"]["type"] = "float"
    data["versions"][0]["conditions"][0]["explain"]["pass"] = {"es": "solo"}
    best = messages(validator.iter_errors(as_json(data)))
    assert any("'colour'" in m for m in best), best
    assert any("'float'" in m for m in best), best
    assert any("'en' is a required property" in m for m in best), best
