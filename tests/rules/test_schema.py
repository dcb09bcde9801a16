"""Rule definitions are checked strictly, and every problem is reported with its path."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.rules.test_evaluation import GRANT
from townhall.core.errors import ValidationFailed
from townhall.rules.library import rules_file_load, rules_files, yaml_parse
from townhall.rules.schema import permit_tree_compile, programme_compile


def problems(data: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as raised:
        programme_compile(data)
    return raised.value.details


def test_every_shipped_rule_file_is_valid_and_marked_demo() -> None:
    files = rules_files()
    assert len(files) >= 5
    for path in files:
        rule = rules_file_load(path)
        assert rule.demo, path
        assert "demo" in path.read_text().splitlines()[0].lower()


def test_every_problem_is_listed_with_its_path() -> None:
    data = copy.deepcopy(GRANT)
    data["colour"] = "red"
    del data["title"]
    data["inputs"]["size"]["type"] = "float"
    data["inputs"]["Bad Name"] = {"type": "boolean", "question": "?"}
    version = data["versions"][0]
    version["conditions"][0]["when"] = "resident and __import__('os')"
    version["conditions"][1]["when"] = "incme <= cap"
    version["conditions"][1]["explain"]["pass"] = {"es": "{nope}"}
    version["amount"]["explain"]["en"] = ""
    version["source"] = "ftp://x"
    version["effective_to"] = "2025-01-01"
    details = problems(data)
    assert details["colour"] == ["is not a known field"]
    assert details["title"] == ["is required"]
    assert details["inputs.size.type"] == [
        "must be one of boolean, integer, number, money, date, choice"
    ]
    assert "inputs.Bad Name" in details
    assert "unexpected '_'" in details["versions[0].conditions[0].when"][0]
    assert details["versions[0].conditions[1].when"] == ["unknown name 'incme'"]
    assert details["versions[0].conditions[1].explain.pass"] == [
        "needs an English (en) text, the fallback for every language"
    ]
    assert details["versions[0].conditions[1].explain.pass.es"] == ["unknown placeholder {nope}"]
    assert details["versions[0].amount.explain.en"] == ["must be a non-empty text"]
    assert details["versions[0].source"] == ["must be an http(s) URL"]
    assert details["versions[0].effective_to"] == ["is before effective_from"]


def test_overlapping_versions_are_refused() -> None:
    data = copy.deepcopy(GRANT)
    second = copy.deepcopy(data["versions"][0])
    second["effective_from"] = "2026-06-01"
    data["versions"].append(second)
    assert "overlaps" in problems(data)["versions"][0]


def test_a_value_cannot_refer_to_itself() -> None:
    data = copy.deepcopy(GRANT)
    data["versions"][0]["values"] = {"cap": "cap + 1"}
    assert problems(data)["versions[0].values.cap"] == ["unknown name 'cap'"]


def test_a_choice_needs_options() -> None:
    data = copy.deepcopy(GRANT)
    data["inputs"]["zone"] = {"type": "choice", "question": "Zone?"}
    assert problems(data)["inputs.zone.options"] == ["a choice needs a non-empty list of options"]


def test_yaml_syntax_errors_name_the_line() -> None:
    with pytest.raises(ValidationFailed) as raised:
        yaml_parse("id: x\ninputs: [\n", where="x.yaml")
    assert any(key.startswith("line ") for key in raised.value.details)
    with pytest.raises(ValidationFailed):
        yaml_parse("!!python/object/apply:os.system ['true']")


TREE: dict[str, Any] = {
    "id": "tree",
    "kind": "permit_tree",
    "title": "Tree",
    "start": "a",
    "questions": {
        "a": {
            "text": "A?",
            "choices": [{"id": "x", "label": "X", "next": "b"}, {"id": "y", "label": "Y"}],
        },
        "b": {
            "text": "B?",
            "choices": [
                {"id": "x", "label": "X", "next": "a"},
                {"id": "y", "label": "Y", "permits": ["p"]},
            ],
        },
        "c": {
            "text": "C?",
            "choices": [{"id": "x", "label": "X"}, {"id": "y", "label": "Y", "permits": ["nope"]}],
        },
    },
    "permits": {
        "p": {
            "name": "P",
            "documents": ["Plan"],
            "fee": 10,
            "processing_days": 5,
            "source": "https://e.org",
        }
    },
}


def test_a_permit_tree_with_a_loop_or_an_orphan_is_refused() -> None:
    with pytest.raises(ValidationFailed) as raised:
        permit_tree_compile(copy.deepcopy(TREE))
    assert raised.value.details["questions.c.choices[1].permits"] == ["unknown permit 'nope'"]
    data = copy.deepcopy(TREE)
    data["questions"]["c"]["choices"][1]["permits"] = []
    with pytest.raises(ValidationFailed) as raised:
        permit_tree_compile(data)
    assert raised.value.details["questions.a"] == ["is part of a loop: a → b → a"]
    assert raised.value.details["questions.c"] == ["cannot be reached from start"]
