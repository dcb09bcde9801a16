"""Input checked at the edges with pydantic, its problems in the project's own form.

Every face (rule files, partner webhooks, imports, Open311) describes its input as a pydantic
model and turns a `ValidationError` into the list of `(path, message)` problems the project
reports: every problem at once, each where it is (`versions[2].conditions[0].when`).
Messages are the project's own: a model raises `PydanticCustomError` with its words, and the
few built-in kinds of error a model cannot word itself (a missing or unknown field, a wrong
type) are worded by the caller's `messages`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from townhall.core.errors import ValidationFailed

Problem = tuple[str, str]

# The built-in errors in the project's words; the rest keep pydantic's own message.
MESSAGES: Mapping[str, str] = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
}


def problem(kind: str, message: str) -> PydanticCustomError:
    """An error a validator raises in the project's words (`message` is not a template)."""
    return PydanticCustomError(kind, "{message}", {"message": message})


def problems_error(
    problems: Sequence[tuple[tuple[int | str, ...], str]],
    *,
    value: Any = None,
    kind: str = "invalid",
) -> ValidationError:
    """Several problems at once, each at its location under the validated value: a validator
    raises this to report more than one problem, or one beside the value (`("text",)`)."""
    return ValidationError.from_exception_data(
        "input",
        [
            InitErrorDetails(type=problem(kind, message), loc=loc, input=value)
            for loc, message in problems
        ],
    )


def location_path(location: Sequence[int | str], *, prefix: str = "") -> str:
    """Return a location as a path: `("rules", 2, "when")` is `rules[2].when`."""
    path = prefix
    for part in location:
        if part == "[key]":  # pydantic's marker for a mapping's key, reported at the entry
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _message(error: ErrorDetails, messages: Mapping[str, str]) -> str:
    kind = error["type"]
    if kind in messages:
        return messages[kind]
    if kind in MESSAGES:
        return MESSAGES[kind]
    message = error["msg"]
    # "Value error, must be …" is how pydantic words a ValueError raised by a validator
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def validation_problems(
    error: ValidationError,
    *,
    prefix: str = "",
    messages: Mapping[str, str] | None = None,
    top: str = "(top)",
) -> list[Problem]:
    """Return every problem of `error` as (path, message), in the order pydantic found them.

    `messages` words built-in error kinds (`missing`, `int_parsing`…) for this caller;
    a problem of the whole input is reported at `top`.
    """
    wording = messages or {}
    return [
        (location_path(e["loc"], prefix=prefix) or top, _message(e, wording))
        for e in error.errors(include_url=False, include_input=False)
    ]


def problems_details(problems: Sequence[Problem]) -> dict[str, list[str]]:
    """Return problems grouped by path, as `ValidationFailed.details` holds them."""
    details: dict[str, list[str]] = {}
    for path, message in problems:
        found = details.setdefault(path, [])
        if message not in found:
            found.append(message)
    return details


def validation_failed(
    message: str,
    error: ValidationError,
    *,
    prefix: str = "",
    messages: Mapping[str, str] | None = None,
    top: str = "(top)",
) -> ValidationFailed:
    """Return a ValidationFailed carrying every problem of `error` by path."""
    problems = validation_problems(error, prefix=prefix, messages=messages, top=top)
    return ValidationFailed(message, details=problems_details(problems))
