"""The rule formats, checked strictly: every problem is reported at once, with its path.

A programme (eligibility rules) and a permit tree are plain data, read from YAML files or
from a council's database row; `programme_compile` and `permit_tree_compile` check that data
with the pydantic models of `townhall.rules.spec` and turn it into the frozen objects the
evaluator uses, or raise ValidationFailed listing each problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import ValidationError

from townhall.core.errors import ValidationFailed
from townhall.core.validation import validation_failed
from townhall.rules.fields import LANGUAGES, MESSAGES, PLACEHOLDER, Scope
from townhall.rules.spec import PermitTreeSpec, ProgrammeSpec, VersionSpec
from townhall.rules.syntax import Node, Value

__all__ = ["LANGUAGES", "PLACEHOLDER"]

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


# --- compiling -----------------------------------------------------------------------------


S = TypeVar("S", ProgrammeSpec, PermitTreeSpec)


def _checked(model: type[S], data: Any, what: str) -> S:
    try:
        return model.model_validate(data, context={"scope": Scope()})
    except ValidationError as error:
        raise validation_failed(what, error, messages=MESSAGES) from None


def _title(data: Any, what: str) -> str:
    rule_id = data.get("id") if isinstance(data, dict) else None
    return f"{what} {rule_id!r} is not valid"


def _version(spec: VersionSpec) -> Version:
    return Version(
        effective_from=spec.effective_from,
        effective_to=spec.effective_to,
        source=spec.source,
        tables=spec.tables,
        values=spec.values,
        conditions=tuple(
            Condition(
                id=c.id,
                when=c.when,
                source=c.source,
                passed=c.explain.passed,
                failed=c.explain.failed,
            )
            for c in spec.conditions
        ),
        amount=Amount(spec.amount.expression, spec.amount.source, spec.amount.explain)
        if spec.amount
        else None,
    )


def programme_compile(data: Any, *, tests: Any = None) -> Programme:
    """Check a programme definition and return it compiled; raise ValidationFailed listing all."""
    if tests is not None and isinstance(data, dict) and "tests" not in data:
        data = {**data, "tests": tests}
    spec = _checked(ProgrammeSpec, data, _title(data, "Programme"))
    return Programme(
        id=spec.id,
        title=spec.title,
        summary=spec.summary,
        next_steps=spec.next_steps,
        currency=spec.currency,
        inputs={
            name: Input(
                name=name,
                type=i.type,
                question=i.question,
                hint=i.hint,
                options=tuple(Option(o.value, o.label) for o in i.options or ()),
                minimum=i.min,
                maximum=i.max,
            )
            for name, i in spec.inputs.items()
        },
        versions=tuple(_version(v) for v in spec.versions),
        demo=spec.demo,
        tests=tuple(spec.tests or ()),
        definition=data,
    )


def permit_tree_compile(data: Any) -> PermitTree:
    """Check a permit tree and return it compiled; raise ValidationFailed listing all problems.

    Every question must be reachable from `start`, no path may loop, and every path ends.
    """
    what = _title(data, "Permit tree")
    spec = _checked(PermitTreeSpec, data, what)
    tree = PermitTree(
        id=spec.id,
        title=spec.title,
        summary=spec.summary,
        start=spec.start,
        currency=spec.currency,
        questions={
            qid: Question(
                id=qid,
                text=q.text,
                hint=q.hint,
                choices=tuple(Choice(c.id, c.label, c.permits, c.next) for c in q.choices),
            )
            for qid, q in spec.questions.items()
        },
        permits={
            pid: Permit(pid, p.name, tuple(p.documents), p.fee, p.processing_days, p.source)
            for pid, p in spec.permits.items()
        },
        demo=spec.demo,
        definition=data,
    )
    problems = _graph_problems(tree.questions, tree.start)
    if problems:
        raise ValidationFailed(what, details=problems)
    return tree


def _graph_problems(questions: Mapping[str, Question], start: str) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(qid: str, trail: tuple[str, ...]) -> None:
        if qid in visiting:
            loop = " → ".join((*trail, qid))
            problems.setdefault(f"questions.{qid}", []).append(f"is part of a loop: {loop}")
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
            problems.setdefault(f"questions.{qid}", []).append("cannot be reached from start")
    return problems
