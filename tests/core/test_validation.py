"""A pydantic ValidationError as the project's (path, message) problems."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from townhall.core.validation import (
    location_path,
    problem,
    problems_details,
    problems_error,
    validation_failed,
    validation_problems,
)


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    when: str
    age: int = 0

    @field_validator("when")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise problem("blank", "must say {something}")
        return value


class File(BaseModel):
    rules: list[Rule]
    names: dict[str, Rule] = {}


def errors(data: Any) -> ValidationError:
    with pytest.raises(ValidationError) as raised:
        File.model_validate(data)
    return raised.value


def test_paths_read_like_the_files() -> None:
    assert location_path(("rules", 2, "when", "age")) == "rules[2].when.age"
    assert location_path((0, "x")) == "[0].x"
    assert location_path(("names", "a b", "[key]")) == "names.a b"
    assert location_path(("b",), prefix="a") == "a.b"


def test_every_problem_at_once_in_the_projects_words() -> None:
    error = errors({"rules": [{"when": "x"}, {"when": " ", "age": "old", "colour": 1}, {}]})
    assert validation_problems(error) == [
        ("rules[1].when", "must say {something}"),
        ("rules[1].age", "Input should be a valid integer, unable to parse string as an integer"),
        ("rules[1].colour", "is not a known field"),
        ("rules[2].when", "is required"),
    ]


def test_callers_word_the_built_in_errors_and_the_top() -> None:
    error = errors([])
    assert validation_problems(error, messages={"model_type": "must be a mapping"}) == [
        ("(top)", "must be a mapping")
    ]
    assert validation_problems(error, top="body")[0][0] == "body"


def test_several_problems_raised_by_one_validator_keep_their_places() -> None:
    class Box(BaseModel):
        items: list[int]

        @field_validator("items")
        @classmethod
        def _small(cls, value: list[int]) -> list[int]:
            big = [((i,), "is too big") for i, n in enumerate(value) if n > 9]
            if big:
                raise problems_error(big, value=value)
            return value

    with pytest.raises(ValidationError) as raised:
        Box.model_validate({"items": [1, 10, 2, 11]})
    failed = validation_failed("The box is not valid.", raised.value)
    assert failed.message == "The box is not valid."
    assert failed.details == {"items[1]": ["is too big"], "items[3]": ["is too big"]}


def test_details_group_by_path_without_repeating() -> None:
    assert problems_details([("a", "x"), ("b", "y"), ("a", "x"), ("a", "z")]) == {
        "a": ["x", "z"],
        "b": ["y"],
    }
