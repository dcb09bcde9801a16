"""The rule file formats as pydantic models: what `schema` checks, and the published JSON Schema.

A programme and a permit tree are read as `ProgrammeSpec` and `PermitTreeSpec`; every
problem is collected at once with its path (`versions[0].conditions[1].when`). Names an
expression may read depend on what comes before it in the file (inputs, then a version's
tables and values in order), so the models are validated with a `Scope` in the context,
filled in as the fields are read: fields are validated in the order they are declared.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from townhall.core.validation import problem, problems_error
from townhall.rules.fields import (
    IDENTIFIER,
    INPUT_TYPES,
    TEXT_SCHEMA,
    Currency,
    Day,
    ExplainText,
    Expression,
    Flag,
    Identifier,
    Number,
    Text,
    Url,
    days_check,
    explain_text,
    expression_parse,
    identifier_check,
    json_schema,
    keys_of,
    kind_check,
    non_empty_list,
    non_empty_mapping,
    scope_of,
    unique_ids,
)
from townhall.rules.syntax import Node, Value

# --- programmes ----------------------------------------------------------------------------


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class OptionSpec(_Spec):
    value: Identifier
    label: Text


def _input_type(value: Any) -> Any:
    if value not in INPUT_TYPES:
        raise problem("type", f"must be one of {', '.join(INPUT_TYPES)}")
    return value


class InputSpec(_Spec):
    """One question; `min` and `max` only for numbers, `options` only for a choice."""

    type: Annotated[Literal[INPUT_TYPES], BeforeValidator(_input_type)]  # type: ignore[valid-type]
    question: Text
    hint: Text | None = None
    options: list[OptionSpec] | None = None
    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="after")
    def _fits_type(self) -> InputSpec:
        if self.type == "choice" and not self.options:
            raise problems_error([(("options",), "a choice needs a non-empty list of options")])
        if self.type != "choice" and self.options is not None:
            raise problems_error([(("options",), "only a choice has options")])
        numeric = self.type in ("integer", "number", "money")
        if (self.min is not None or self.max is not None) and not numeric:
            raise problem("bounds", "only numbers have min and max")
        return self


class ExplainSpec(_Spec):
    passed: ExplainText = Field(alias="pass")
    failed: ExplainText = Field(alias="fail")


class ConditionSpec(_Spec):
    id: Identifier
    when: Expression
    explain: ExplainSpec
    source: Url = ""


class AmountSpec(_Spec):
    expression: Expression
    explain: Annotated[dict[str, str], explain_text("amount"), TEXT_SCHEMA]
    source: Url = ""


def _table_value(value: Any) -> Value:
    if isinstance(value, bool) or value is None or isinstance(value, str | date):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, list):
        return [_table_value(v) for v in value]
    if isinstance(value, dict):
        return {_table_key(k): _table_value(v) for k, v in value.items()}
    raise TypeError(value)


def _table_key(key: Any) -> object:
    # JSON (a council's stored version) turns the number keys of YAML into text: undo that
    if isinstance(key, str) and re.fullmatch(r"-?\d+(\.\d+)?", key):
        return Decimal(key)
    if isinstance(key, int | float) and not isinstance(key, bool):
        return Decimal(str(key))
    return key


def _tables(value: Any, info: ValidationInfo) -> dict[str, Value]:
    scope = scope_of(info)
    if not isinstance(value, dict):
        raise problem("mapping", "must be a mapping of table name to rows")
    tables: dict[str, Value] = {}
    found: list[tuple[tuple[int | str, ...], str]] = []
    for name, rows in value.items():
        scope.known.add(str(name))
        try:
            identifier_check(name)
        except ValueError as error:
            found.append(((str(name),), str(error)))
        if name in scope.inputs:
            found.append(((str(name),), "has the same name as an input"))
        if not isinstance(rows, dict | list) or not rows:
            found.append(((str(name),), "must be a non-empty mapping or list"))
            continue
        try:
            tables[str(name)] = _table_value(rows)
        except TypeError as error:
            found.append(((str(name),), f"holds an unsupported value {error}"))
    if found:
        raise problems_error(found, value=value)
    return tables


def _values(value: Any, info: ValidationInfo) -> dict[str, Node]:
    """Named expressions, each reading the names above it (never itself: no cycles)."""
    scope = scope_of(info)
    if not isinstance(value, dict):
        raise problem("mapping", "must be a mapping of name to expression")
    values: dict[str, Node] = {}
    found: list[tuple[tuple[int | str, ...], str]] = []
    for name, source in value.items():
        where = (str(name),)
        if not isinstance(name, str) or not IDENTIFIER.match(name):
            found.append(
                (where, "must be lower-case letters, digits and _, starting with a letter")
            )
        if name in scope.known:
            found.append((where, "has the same name as an input or table"))
        try:
            values[str(name)] = expression_parse(source, scope.known)
        except ValueError as error:
            found += [(where, str(e["msg"])) for e in _errors(error)]
        scope.known.add(str(name))
    if found:
        raise problems_error(found, value=value)
    return values


def _errors(error: ValueError) -> list[dict[str, Any]]:
    inner = getattr(error, "errors", None)
    return list(inner()) if callable(inner) else [{"msg": str(error)}]


class VersionSpec(_Spec):
    """The rules in force between two dates."""

    effective_from: Day
    effective_to: Day | None = None
    source: Url
    tables: Annotated[
        dict[str, Any],
        PlainValidator(_tables),
        json_schema(type="object", additionalProperties=True),
    ] = {}
    values: Annotated[
        dict[str, Any],
        PlainValidator(_values),
        json_schema(type="object", additionalProperties={"type": ["string", "number"]}),
    ] = {}
    conditions: Annotated[
        list[ConditionSpec], non_empty_list("must be a non-empty list"), Field(min_length=1)
    ]
    amount: AmountSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _fresh_names(cls, data: Any, info: ValidationInfo) -> Any:
        scope = scope_of(info)
        scope.known = scope.inputs | {"today"}
        return data

    @field_validator("effective_to")
    @classmethod
    def _after_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("effective_from")
        if value is not None and start is not None and value < start:
            raise problem("dates", "is before effective_from")
        return value

    @field_validator("conditions")
    @classmethod
    def _unique(cls, value: list[ConditionSpec]) -> list[ConditionSpec]:
        return unique_ids(value)


def _no_overlap(versions: list[VersionSpec]) -> list[VersionSpec]:
    ordered = sorted(versions, key=lambda v: v.effective_from)
    for before, after in itertools.pairwise(ordered):
        if before.effective_to is None or before.effective_to >= after.effective_from:
            raise problem(
                "overlap",
                f"the version from {before.effective_from} overlaps the one from "
                f"{after.effective_from} (give it an effective_to before that date)",
            )
    return ordered


def _tests(value: Any) -> Any:
    if not isinstance(value, list):
        raise problem("tests", "must be a list of test cases")
    return value


class ProgrammeSpec(_Spec):
    """An eligibility programme (docs/rules.md)."""

    kind: Annotated[
        Literal["programme"], kind_check("programme"), json_schema(const="programme")
    ] = "programme"
    id: Identifier
    title: Text
    summary: Text = {"en": ""}
    next_steps: Text = {"en": ""}
    currency: Currency = "$"
    demo: Flag = False
    tests: Annotated[list[dict[str, Any]] | None, BeforeValidator(_tests)] = None
    inputs: Annotated[
        dict[Identifier, InputSpec],
        non_empty_mapping("must be a non-empty mapping of input name to its definition", "inputs"),
        Field(min_length=1),
    ]
    versions: Annotated[
        list[VersionSpec], non_empty_list("must be a non-empty list"), Field(min_length=1)
    ]

    @field_validator("versions")
    @classmethod
    def _in_order(cls, value: list[VersionSpec]) -> list[VersionSpec]:
        return _no_overlap(value)


# --- permit trees --------------------------------------------------------------------------


class PermitSpec(_Spec):
    name: Text
    documents: Annotated[list[Text], non_empty_list("must be a list of texts", least=0)]
    fee: Number
    processing_days: Annotated[
        int, PlainValidator(days_check), json_schema(type="integer", minimum=0)
    ]
    source: Url


def _permit_ids(value: Any, info: ValidationInfo) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise problem("permits", "must be a list of permit ids")
    known = scope_of(info).permits
    unknown = [
        ((), f"unknown permit {p!r}") for p in value if not isinstance(p, str) or p not in known
    ]
    if unknown:
        raise problems_error(unknown, value=value)
    return tuple(str(p) for p in value)


def _question_id(value: Any, info: ValidationInfo) -> str:
    if not isinstance(value, str) or value not in scope_of(info).questions:
        raise problem("question", f"unknown question {value!r}")
    return str(value)


QuestionId = Annotated[str, PlainValidator(_question_id), json_schema(type="string")]


class ChoiceSpec(_Spec):
    id: Identifier
    label: Text
    permits: Annotated[
        tuple[str, ...],
        PlainValidator(_permit_ids),
        json_schema(type="array", items={"type": "string"}),
    ] = ()
    next: QuestionId | None = None


class QuestionSpec(_Spec):
    text: Text
    hint: Text | None = None
    choices: Annotated[
        list[ChoiceSpec],
        non_empty_list("must be a list of at least two choices", least=2),
        Field(min_length=2),
    ]

    @field_validator("choices")
    @classmethod
    def _unique(cls, value: list[ChoiceSpec]) -> list[ChoiceSpec]:
        return unique_ids(value)


class PermitTreeSpec(_Spec):
    """A permit finder: questions leading to the permits an applicant needs."""

    kind: Annotated[
        Literal["permit_tree"], kind_check("permit_tree"), json_schema(const="permit_tree")
    ]
    id: Identifier
    title: Text
    summary: Text = {"en": ""}
    currency: Currency = "$"
    demo: Flag = False
    permits: Annotated[
        dict[Identifier, PermitSpec],
        non_empty_mapping("must be a non-empty mapping", "permits"),
        Field(min_length=1),
    ]
    questions: Annotated[
        dict[Identifier, QuestionSpec],
        non_empty_mapping("must be a non-empty mapping", "questions"),
        Field(min_length=1),
    ]
    start: QuestionId

    @model_validator(mode="before")
    @classmethod
    def _questions_first(cls, data: Any, info: ValidationInfo) -> Any:
        # a choice's `next` may name a question defined below it
        if isinstance(data, dict):
            scope_of(info).questions.update(keys_of(data.get("questions")))
        return data


# Committed for editors (docs/rules.md); a test fails when it no longer matches the models.
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "rules.schema.json"


def rules_json_schema() -> dict[str, Any]:
    """The JSON Schema of a rule file (a programme or a permit tree), for editors."""
    schema: dict[str, Any] = TypeAdapter(ProgrammeSpec | PermitTreeSpec).json_schema(
        ref_template="#/$defs/{model}"
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://townhall.example.org/schemas/rules.schema.json",
        "title": "Townhall rule file",
        "description": "An eligibility programme or a permit tree (docs/rules.md). "
        "Generated by `townhall rules schema`; the rules' own checks go further "
        "(names used in expressions, placeholders, overlapping versions, loops).",
        **schema,
    }


def rules_json_schema_text() -> str:
    """The JSON Schema as the committed file holds it."""
    return json.dumps(rules_json_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
