"""The rule formats' pydantic models: problems the hand-written checks missed, and shapes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.rules.test_evaluation import GRANT
from tests.rules.test_schema import TREE
from townhall.core.errors import ValidationFailed
from townhall.rules.schema import permit_tree_compile, programme_compile


def problems(compile_: Any, data: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as raised:
        compile_(data)
    return raised.value.details


def test_a_bad_title_is_reported_with_the_rest() -> None:
    # The hand-written check looked at the title only after deciding the rest was valid.
    data = copy.deepcopy(GRANT)
    data["title"] = {"en": "", "fr": "Subvention"}
    data["inputs"]["size"]["min"] = "many"
    assert problems(programme_compile, data) == {
        "title.en": ["must be a non-empty text"],
        "title.fr": ["unknown language (use en, es)"],
        "inputs.size.min": ["must be a number"],
    }


def test_a_document_that_is_not_a_mapping() -> None:
    assert problems(programme_compile, ["id: x"]) == {"(top)": ["must be a mapping"]}


def test_values_see_tables_and_the_values_above_them() -> None:
    data = copy.deepcopy(GRANT)
    data["versions"][0]["tables"]["caps"] = {1: 10, 2: 20}
    data["versions"][0]["values"].update({"a": "caps[1] + later", "later": "a * 2"})
    assert problems(programme_compile, data) == {"versions[0].values.a": ["unknown name 'later'"]}


def test_each_version_has_its_own_names() -> None:
    data = copy.deepcopy(GRANT)
    second = copy.deepcopy(data["versions"][0])
    data["versions"][0]["effective_to"] = "2026-05-31"
    data["versions"][0]["values"]["bonus"] = "1"
    second["effective_from"] = "2026-06-01"
    second["conditions"][0]["when"] = "bonus > 0"
    data["versions"].append(second)
    assert problems(programme_compile, data) == {
        "versions[1].conditions[0].when": ["unknown name 'bonus'"]
    }


def test_every_shape_problem_of_a_permit_tree_at_once() -> None:
    data = copy.deepcopy(TREE)
    data["questions"]["c"]["choices"][1]["permits"] = []
    data["permits"]["p"]["processing_days"] = -1
    data["permits"]["p"]["documents"] = "Plan"
    data["questions"]["a"]["choices"][0]["next"] = "zz"
    data["questions"]["b"]["choices"] = [{"id": "x", "label": "X"}]
    data["start"] = "nowhere"
    assert problems(permit_tree_compile, data) == {
        "permits.p.documents": ["must be a list of texts"],
        "permits.p.processing_days": ["must be a whole number of days"],
        "questions.a.choices[0].next": ["unknown question 'zz'"],
        "questions.b.choices": ["must be a list of at least two choices"],
        "start": ["unknown question 'nowhere'"],
    }


def test_a_choice_id_used_twice() -> None:
    data = copy.deepcopy(TREE)
    data["questions"]["c"]["choices"][1] = {"id": "x", "label": "Again"}
    assert problems(permit_tree_compile, data)["questions.c.choices[1].id"] == ["'x' is used twice"]
