"""The field types of the rule formats, for the pydantic models of `townhall.rules.spec`.

Each checks one value and raises its problems in the formats' words, with the JSON Schema
editors are given for it. `Scope` carries the names defined so far in a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
)

from townhall.core.errors import ValidationFailed
from townhall.core.validation import problem, problems_error
from townhall.rules import syntax
from townhall.rules.syntax import Node

LANGUAGES = ("en", "es")
INPUT_TYPES = ("boolean", "integer", "number", "money", "date", "choice")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
URL = re.compile(r"^https?://\S+$")

# The built-in errors in the rule formats' words.
MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "dict_type": "must be a mapping",
    "list_type": "must be a list",
}


@dataclass
class Scope:
    """What the file defined so far: the names an expression or a reference may use."""

    inputs: set[str] = field(default_factory=set)
    known: set[str] = field(default_factory=set)  # inputs, tables, values above, today
    permits: set[str] = field(default_factory=set)
    questions: set[str] = field(default_factory=set)


def scope_of(info: ValidationInfo) -> Scope:
    found = info.context.get("scope") if isinstance(info.context, dict) else None
    return found if isinstance(found, Scope) else Scope()


def keys_of(value: Any) -> set[str]:
    return {str(k) for k in value} if isinstance(value, dict) else set()


# --- values --------------------------------------------------------------------------------


def identifier_check(value: Any) -> str:
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise problem(
            "identifier", "must be lower-case letters, digits and _, starting with a letter"
        )
    return value


def text_check(value: Any, placeholders: set[str] | None = None) -> dict[str, str]:
    if isinstance(value, str):
        value = {"en": value}
    if not isinstance(value, dict):
        raise problem("text", "must be a text or a mapping of language to text")
    found: list[tuple[tuple[int | str, ...], str]] = []
    if "en" not in value:
        found.append(((), "needs an English (en) text, the fallback for every language"))
    for language, text in value.items():
        if language not in LANGUAGES:
            found.append(((str(language),), f"unknown language (use {', '.join(LANGUAGES)})"))
        elif not isinstance(text, str) or not text.strip():
            found.append(((language,), "must be a non-empty text"))
        elif placeholders is not None:
            for name in PLACEHOLDER.findall(text):
                if name not in placeholders:
                    found.append(((language,), f"unknown placeholder {{{name}}}"))
    if found:
        raise problems_error(found, value=value)
    return value


def explain_text(*extra: str) -> PlainValidator:
    def check(value: Any, info: ValidationInfo) -> dict[str, str]:
        return text_check(value, (scope_of(info).known - {"today"}) | set(extra))

    return PlainValidator(check)


def url_check(value: Any) -> str:
    if not isinstance(value, str) or not URL.match(value):
        raise problem("url", "must be an http(s) URL")
    return value


def day_check(value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise problem("date", "must be a date (YYYY-MM-DD)")


def number_check(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise problem("number", "must be a number")
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise problem("number", "must be a number") from None


def expression_parse(source: Any, known: set[str]) -> Node:
    """An expression parsed, reading only `known` names; raise its problems."""
    if not isinstance(source, str | int | float) or isinstance(source, bool):
        raise problem("expression", "must be an expression")
    try:
        node = syntax.parse(str(source))
    except ValidationFailed as error:
        messages = error.details.get("expression", [error.message])
        raise problems_error([((), m) for m in messages], value=source) from None
    unknown = sorted(syntax.names_in(node) - known)
    if unknown:
        raise problems_error([((), f"unknown name {n!r}") for n in unknown], value=source)
    return node


def expression_check(value: Any, info: ValidationInfo) -> Node:
    return expression_parse(value, scope_of(info).known)


def json_schema(**schema: Any) -> WithJsonSchema:
    return WithJsonSchema(schema)


TEXT_SCHEMA = json_schema(
    anyOf=[
        {"type": "string", "minLength": 1, "description": "English text"},
        {
            "type": "object",
            "properties": {lang: {"type": "string", "minLength": 1} for lang in LANGUAGES},
            "required": ["en"],
            "additionalProperties": False,
        },
    ]
)
Identifier = Annotated[
    str, PlainValidator(identifier_check), json_schema(type="string", pattern=IDENTIFIER.pattern)
]


def _plain_text(value: Any) -> dict[str, str]:
    return text_check(value)  # no placeholders in titles, questions, labels


Text = Annotated[dict[str, str], PlainValidator(_plain_text), TEXT_SCHEMA]
ExplainText = Annotated[dict[str, str], explain_text(), TEXT_SCHEMA]
Url = Annotated[str, PlainValidator(url_check), json_schema(type="string", pattern=URL.pattern)]
Day = Annotated[date, PlainValidator(day_check), json_schema(type="string", format="date")]
Number = Annotated[Decimal, PlainValidator(number_check), json_schema(type="number")]
Expression = Annotated[
    Any,  # a parsed Node (a type pydantic need not know)
    PlainValidator(expression_check),
    json_schema(type=["string", "number"], description="an expression of the condition language"),
]


def non_empty_mapping(message: str, into: str | None = None) -> BeforeValidator:
    """A non-empty mapping (else `message`), its keys noted in the scope as `into`."""

    def check(value: Any, info: ValidationInfo) -> Any:
        if into is not None:
            getattr(scope_of(info), into).update(keys_of(value))
        if not isinstance(value, dict) or not value:
            raise problem("mapping", message)
        return value

    return BeforeValidator(check)


def non_empty_list(message: str, least: int = 1) -> BeforeValidator:
    def check(value: Any) -> Any:
        if not isinstance(value, list) or len(value) < least:
            raise problem("list", message)
        return value

    return BeforeValidator(check)


def unique_ids(items: list[Any]) -> list[Any]:
    seen: set[str] = set()
    twice: list[tuple[tuple[int | str, ...], str]] = []
    for i, item in enumerate(items):
        if item.id in seen:
            twice.append(((i, "id"), f"{item.id!r} is used twice"))
        seen.add(item.id)
    if twice:
        raise problems_error(twice, value=items)
    return items


def currency_check(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 5:
        raise problem("currency", "must be a short symbol such as $ or €")
    return value


def flag_check(value: Any) -> bool:
    if not isinstance(value, bool):
        raise problem("flag", "must be true or false")
    return value


def kind_check(expected: str) -> PlainValidator:
    def check(value: Any) -> str:
        if value != expected:
            raise problem("kind", f"must be {expected!r}")
        return expected

    return PlainValidator(check)


Currency = Annotated[str, PlainValidator(currency_check), json_schema(type="string", maxLength=5)]
Flag = Annotated[bool, PlainValidator(flag_check), json_schema(type="boolean")]


def days_check(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise problem("days", "must be a whole number of days")
    return int(value)
