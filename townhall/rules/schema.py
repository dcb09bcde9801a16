"""The rule formats, checked strictly: every problem is reported at once, with its path.

A programme (eligibility rules) and a permit tree are plain data, read from YAML files or
from a council's database row; `programme_compile` and `permit_tree_compile` turn that data
into frozen objects the evaluator uses, or raise ValidationFailed listing each problem.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from townhall.core.errors import ValidationFailed
from townhall.rules import expressions
from townhall.rules.expressions import Node, Value

LANGUAGES = ("en", "es")
INPUT_TYPES = ("boolean", "integer", "number", "money", "date", "choice")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")

Text = Mapping[str, str]


@dataclass(frozen=True)
class Option:
    value: str
    label: Text


@dataclass(frozen=True)
class Input:
    name: str
    type: str
    question: Text
    hint: Text | None = None
    options: tuple[Option, ...] = ()
    minimum: Decimal | None = None
    maximum: Decimal | None = None


@dataclass(frozen=True)
class Condition:
    id: str
    when: Node
    source: str
    passed: Text
    failed: Text


@dataclass(frozen=True)
class Amount:
    expression: Node
    source: str
    explain: Text


@dataclass(frozen=True)
class Version:
    effective_from: date
    effective_to: date | None
    source: str
    tables: Mapping[str, Value]
    values: Mapping[str, Node]
    conditions: tuple[Condition, ...]
    amount: Amount | None

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


@dataclass(frozen=True)
class Programme:
    id: str
    title: Text
    summary: Text
    next_steps: Text
    currency: str
    inputs: Mapping[str, Input]
    versions: tuple[Version, ...]
    demo: bool = False
    tests: tuple[Mapping[str, Any], ...] = ()
    definition: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Permit:
    id: str
    name: Text
    documents: tuple[Text, ...]
    fee: Decimal
    processing_days: int
    source: str


@dataclass(frozen=True)
class Choice:
    id: str
    label: Text
    permits: tuple[str, ...]
    next: str | None


@dataclass(frozen=True)
class Question:
    id: str
    text: Text
    hint: Text | None
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class PermitTree:
    id: str
    title: Text
    summary: Text
    start: str
    currency: str
    questions: Mapping[str, Question]
    permits: Mapping[str, Permit]
    demo: bool = False
    definition: Mapping[str, Any] = field(default_factory=dict, compare=False)


# --- checking ------------------------------------------------------------------------------


class _Problems:
    """Collects problems by path so one ValidationFailed can list them all."""

    def __init__(self) -> None:
        self.details: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.details.setdefault(path or "(top)", []).append(message)

    def mapping(
        self, data: Any, path: str, *, required: set[str], optional: set[str]
    ) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.add(path, "must be a mapping")
            return {}
        for key in sorted(required - set(data), key=str):
            self.add(f"{path}.{key}".lstrip("."), "is required")
        for key in sorted(set(data) - required - optional, key=str):
            self.add(f"{path}.{key}".lstrip("."), "is not a known field")
        return data

    def identifier(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not IDENTIFIER.match(value):
            self.add(path, "must be lower-case letters, digits and _, starting with a letter")
            return str(value)
        return value

    def text(self, value: Any, path: str, *, placeholders: set[str] | None = None) -> Text:
        if isinstance(value, str):
            value = {"en": value}
        if not isinstance(value, dict):
            self.add(path, "must be a text or a mapping of language to text")
            return {"en": ""}
        if "en" not in value:
            self.add(path, "needs an English (en) text, the fallback for every language")
        for language, text in value.items():
            if language not in LANGUAGES:
                self.add(f"{path}.{language}", f"unknown language (use {', '.join(LANGUAGES)})")
            elif not isinstance(text, str) or not text.strip():
                self.add(f"{path}.{language}", "must be a non-empty text")
            elif placeholders is not None:
                for name in PLACEHOLDER.findall(text):
                    if name not in placeholders:
                        self.add(f"{path}.{language}", f"unknown placeholder {{{name}}}")
        return {k: v for k, v in value.items() if isinstance(v, str)}

    def url(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not re.match(r"^https?://\S+$", value):
            self.add(path, "must be an http(s) URL")
            return ""
        return value

    def day(self, value: Any, path: str) -> date | None:
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.add(path, "must be a date (YYYY-MM-DD)")
        return None

    def number(self, value: Any, path: str) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.add(path, "must be a number")
            return None
        try:
            return Decimal(str(value))
        except ArithmeticError:
            self.add(path, "must be a number")
            return None

    def expression(self, value: Any, path: str, known: set[str]) -> Node:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.add(path, "must be an expression")
            return expressions.Literal(None)
        try:
            node = expressions.parse(str(value))
        except ValidationFailed as error:
            for message in error.details.get("expression", [error.message]):
                self.add(path, message)
            return expressions.Literal(None)
        for name in sorted(expressions.names_in(node) - known):
            self.add(path, f"unknown name {name!r}")
        return node

    def raise_if_any(self, what: str) -> None:
        if self.details:
            count = sum(len(v) for v in self.details.values())
            raise ValidationFailed(f"{what}: {count} problem(s)", details=self.details)


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


def _inputs(problems: _Problems, data: Any) -> dict[str, Input]:
    if not isinstance(data, dict) or not data:
        problems.add("inputs", "must be a non-empty mapping of input name to its definition")
        return {}
    found: dict[str, Input] = {}
    for name, spec in data.items():
        path = f"inputs.{name}"
        problems.identifier(name, path)
        spec = problems.mapping(
            spec,
            path,
            required={"type", "question"},
            optional={"hint", "options", "min", "max"},
        )
        kind = spec.get("type")
        if kind not in INPUT_TYPES:
            problems.add(f"{path}.type", f"must be one of {', '.join(INPUT_TYPES)}")
        options: list[Option] = []
        if kind == "choice":
            raw = spec.get("options")
            if not isinstance(raw, list) or not raw:
                problems.add(f"{path}.options", "a choice needs a non-empty list of options")
            else:
                for i, option in enumerate(raw):
                    opath = f"{path}.options[{i}]"
                    option = problems.mapping(
                        option, opath, required={"value", "label"}, optional=set()
                    )
                    value = problems.identifier(option.get("value"), f"{opath}.value")
                    options.append(
                        Option(value, problems.text(option.get("label"), f"{opath}.label"))
                    )
        elif "options" in spec:
            problems.add(f"{path}.options", "only a choice has options")
        bounds = {
            key: problems.number(spec[key], f"{path}.{key}")
            for key in ("min", "max")
            if key in spec
        }
        if bounds and kind not in ("integer", "number", "money"):
            problems.add(path, "only numbers have min and max")
        found[str(name)] = Input(
            name=str(name),
            type=str(kind),
            question=problems.text(spec.get("question"), f"{path}.question"),
            hint=problems.text(spec["hint"], f"{path}.hint") if "hint" in spec else None,
            options=tuple(options),
            minimum=bounds.get("min"),
            maximum=bounds.get("max"),
        )
    return found


def _version(
    problems: _Problems, data: Any, path: str, inputs: Mapping[str, Input]
) -> Version | None:
    spec = problems.mapping(
        data,
        path,
        required={"effective_from", "source", "conditions"},
        optional={"effective_to", "tables", "values", "amount"},
    )
    if not spec:
        return None
    tables: dict[str, Value] = {}
    raw_tables = spec.get("tables", {})
    if not isinstance(raw_tables, dict):
        problems.add(f"{path}.tables", "must be a mapping of table name to rows")
        raw_tables = {}
    for name, rows in raw_tables.items():
        problems.identifier(name, f"{path}.tables.{name}")
        if name in inputs:
            problems.add(f"{path}.tables.{name}", "has the same name as an input")
        if not isinstance(rows, dict | list) or not rows:
            problems.add(f"{path}.tables.{name}", "must be a non-empty mapping or list")
            continue
        try:
            tables[str(name)] = _table_value(rows)
        except TypeError as error:
            problems.add(f"{path}.tables.{name}", f"holds an unsupported value {error}")
    known = set(inputs) | set(tables) | {"today"}
    values: dict[str, Node] = {}
    raw_values = spec.get("values", {})
    if not isinstance(raw_values, dict):
        problems.add(f"{path}.values", "must be a mapping of name to expression")
        raw_values = {}
    for name, source in raw_values.items():
        vpath = f"{path}.values.{name}"
        problems.identifier(name, vpath)
        if name in known:
            problems.add(vpath, "has the same name as an input or table")
        # a value may use the values defined above it, never itself or later ones: no cycles
        values[str(name)] = problems.expression(source, vpath, known)
        known.add(str(name))
    placeholders = known - {"today"}
    conditions: list[Condition] = []
    raw_conditions = spec.get("conditions")
    if not isinstance(raw_conditions, list) or not raw_conditions:
        problems.add(f"{path}.conditions", "must be a non-empty list")
        raw_conditions = []
    seen: set[str] = set()
    for i, condition in enumerate(raw_conditions):
        cpath = f"{path}.conditions[{i}]"
        condition = problems.mapping(
            condition, cpath, required={"id", "when", "explain"}, optional={"source"}
        )
        if not condition:
            continue
        cid = problems.identifier(condition.get("id"), f"{cpath}.id")
        if cid in seen:
            problems.add(f"{cpath}.id", f"{cid!r} is used twice")
        seen.add(cid)
        explain = problems.mapping(
            condition.get("explain"), f"{cpath}.explain", required={"pass", "fail"}, optional=set()
        )
        conditions.append(
            Condition(
                id=cid,
                when=problems.expression(condition.get("when"), f"{cpath}.when", known),
                source=problems.url(condition["source"], f"{cpath}.source")
                if "source" in condition
                else "",
                passed=problems.text(
                    explain.get("pass"), f"{cpath}.explain.pass", placeholders=placeholders
                ),
                failed=problems.text(
                    explain.get("fail"), f"{cpath}.explain.fail", placeholders=placeholders
                ),
            )
        )
    amount = None
    if "amount" in spec:
        apath = f"{path}.amount"
        raw = problems.mapping(
            spec["amount"], apath, required={"expression", "explain"}, optional={"source"}
        )
        amount = Amount(
            expression=problems.expression(raw.get("expression"), f"{apath}.expression", known),
            source=problems.url(raw["source"], f"{apath}.source") if "source" in raw else "",
            explain=problems.text(
                raw.get("explain"),
                f"{apath}.explain",
                placeholders=placeholders | {"amount"},
            ),
        )
    start = problems.day(spec.get("effective_from"), f"{path}.effective_from")
    end = (
        problems.day(spec["effective_to"], f"{path}.effective_to")
        if spec.get("effective_to") is not None
        else None
    )
    if start and end and end < start:
        problems.add(f"{path}.effective_to", "is before effective_from")
    return Version(
        effective_from=start or date.min,
        effective_to=end,
        source=problems.url(spec.get("source"), f"{path}.source"),
        tables=tables,
        values=values,
        conditions=tuple(conditions),
        amount=amount,
    )


def programme_compile(data: Any, *, tests: Any = None) -> Programme:
    """Check a programme definition and return it compiled; raise ValidationFailed listing all."""
    problems = _Problems()
    spec = problems.mapping(
        data,
        "",
        required={"id", "title", "inputs", "versions"},
        optional={"summary", "next_steps", "currency", "demo", "tests", "kind"},
    )
    if spec.get("kind", "programme") != "programme":
        problems.add("kind", "must be 'programme'")
    rule_id = problems.identifier(spec.get("id"), "id")
    inputs = _inputs(problems, spec.get("inputs"))
    versions: list[Version] = []
    raw_versions = spec.get("versions")
    if not isinstance(raw_versions, list) or not raw_versions:
        problems.add("versions", "must be a non-empty list")
        raw_versions = []
    for i, raw in enumerate(raw_versions):
        version = _version(problems, raw, f"versions[{i}]", inputs)
        if version is not None:
            versions.append(version)
    ordered = sorted(versions, key=lambda v: v.effective_from)
    for before, after in itertools.pairwise(ordered):
        if before.effective_to is None or before.effective_to >= after.effective_from:
            problems.add(
                "versions",
                f"the version from {before.effective_from} overlaps the one from "
                f"{after.effective_from} (give it an effective_to before that date)",
            )
    raw_tests = spec.get("tests", tests) or []
    if not isinstance(raw_tests, list):
        problems.add("tests", "must be a list of test cases")
        raw_tests = []
    if "demo" in spec and not isinstance(spec["demo"], bool):
        problems.add("demo", "must be true or false")
    currency = spec.get("currency", "$")
    if not isinstance(currency, str) or len(currency) > 5:
        problems.add("currency", "must be a short symbol such as $ or €")
    problems.raise_if_any(f"Programme {rule_id!r} is not valid")
    return Programme(
        id=rule_id,
        title=problems.text(spec["title"], "title"),
        summary=problems.text(spec.get("summary", {"en": ""}), "summary"),
        next_steps=problems.text(spec.get("next_steps", {"en": ""}), "next_steps"),
        currency=str(currency),
        inputs=inputs,
        versions=tuple(ordered),
        demo=bool(spec.get("demo", False)),
        tests=tuple(raw_tests),
        definition=data,
    )


def permit_tree_compile(data: Any) -> PermitTree:
    """Check a permit tree and return it compiled; raise ValidationFailed listing all problems.

    Every question must be reachable from `start`, no path may loop, and every path ends.
    """
    problems = _Problems()
    spec = problems.mapping(
        data,
        "",
        required={"id", "kind", "title", "start", "questions", "permits"},
        optional={"summary", "currency", "demo"},
    )
    if spec.get("kind") != "permit_tree":
        problems.add("kind", "must be 'permit_tree'")
    tree_id = problems.identifier(spec.get("id"), "id")
    permits: dict[str, Permit] = {}
    raw_permits = spec.get("permits")
    if not isinstance(raw_permits, dict) or not raw_permits:
        problems.add("permits", "must be a non-empty mapping")
        raw_permits = {}
    for pid, raw in raw_permits.items():
        path = f"permits.{pid}"
        problems.identifier(pid, path)
        raw = problems.mapping(
            raw,
            path,
            required={"name", "documents", "fee", "processing_days", "source"},
            optional=set(),
        )
        documents = raw.get("documents")
        if not isinstance(documents, list):
            problems.add(f"{path}.documents", "must be a list of texts")
            documents = []
        days = raw.get("processing_days")
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            problems.add(f"{path}.processing_days", "must be a whole number of days")
            days = 0
        permits[str(pid)] = Permit(
            id=str(pid),
            name=problems.text(raw.get("name"), f"{path}.name"),
            documents=tuple(
                problems.text(d, f"{path}.documents[{i}]") for i, d in enumerate(documents)
            ),
            fee=problems.number(raw.get("fee"), f"{path}.fee") or Decimal(0),
            processing_days=days,
            source=problems.url(raw.get("source"), f"{path}.source"),
        )
    questions: dict[str, Question] = {}
    raw_questions = spec.get("questions")
    if not isinstance(raw_questions, dict) or not raw_questions:
        problems.add("questions", "must be a non-empty mapping")
        raw_questions = {}
    for qid, raw in raw_questions.items():
        path = f"questions.{qid}"
        problems.identifier(qid, path)
        raw = problems.mapping(raw, path, required={"text", "choices"}, optional={"hint"})
        choices: list[Choice] = []
        raw_choices = raw.get("choices")
        if not isinstance(raw_choices, list) or len(raw_choices) < 2:
            problems.add(f"{path}.choices", "must be a list of at least two choices")
            raw_choices = []
        seen: set[str] = set()
        for i, choice in enumerate(raw_choices):
            cpath = f"{path}.choices[{i}]"
            choice = problems.mapping(
                choice, cpath, required={"id", "label"}, optional={"permits", "next"}
            )
            cid = problems.identifier(choice.get("id"), f"{cpath}.id")
            if cid in seen:
                problems.add(f"{cpath}.id", f"{cid!r} is used twice")
            seen.add(cid)
            needs = choice.get("permits", [])
            if not isinstance(needs, list):
                problems.add(f"{cpath}.permits", "must be a list of permit ids")
                needs = []
            for pid in needs:
                if pid not in permits:
                    problems.add(f"{cpath}.permits", f"unknown permit {pid!r}")
            target = choice.get("next")
            if target is not None and target not in raw_questions:
                problems.add(f"{cpath}.next", f"unknown question {target!r}")
            choices.append(
                Choice(
                    id=cid,
                    label=problems.text(choice.get("label"), f"{cpath}.label"),
                    permits=tuple(str(p) for p in needs),
                    next=str(target) if target is not None else None,
                )
            )
        questions[str(qid)] = Question(
            id=str(qid),
            text=problems.text(raw.get("text"), f"{path}.text"),
            hint=problems.text(raw["hint"], f"{path}.hint") if "hint" in raw else None,
            choices=tuple(choices),
        )
    start = spec.get("start")
    if start not in questions:
        problems.add("start", f"unknown question {start!r}")
    elif not problems.details:
        _check_graph(problems, questions, str(start))
    problems.raise_if_any(f"Permit tree {tree_id!r} is not valid")
    return PermitTree(
        id=tree_id,
        title=problems.text(spec["title"], "title"),
        summary=problems.text(spec.get("summary", {"en": ""}), "summary"),
        start=str(start),
        currency=str(spec.get("currency", "$")),
        questions=questions,
        permits=permits,
        demo=bool(spec.get("demo", False)),
        definition=data,
    )


def _check_graph(problems: _Problems, questions: Mapping[str, Question], start: str) -> None:
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(qid: str, trail: tuple[str, ...]) -> None:
        if qid in visiting:
            problems.add(f"questions.{qid}", f"is part of a loop: {' → '.join((*trail, qid))}")
            return
        if qid in done:
            return
        visiting.add(qid)
        for choice in questions[qid].choices:
            if choice.next is not None:
                visit(choice.next, (*trail, qid))
        visiting.discard(qid)
        done.add(qid)

    visit(start, ())
    for qid in questions:
        if qid not in done:
            problems.add(f"questions.{qid}", "cannot be reached from start")
