"""The condition language: precedence, three-valued logic, and refusal of anything else."""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from townhall.core.errors import ValidationFailed
from townhall.rules.expressions import (
    RuleEvaluationError,
    Unknown,
    evaluate,
    names_in,
    parse,
)


def run(source: str, **names: object) -> object:
    def resolve(name: str) -> object:
        if name == "today":
            return date(2026, 6, 1)
        value = names.get(name)
        return Unknown(frozenset({name})) if value is None else value

    return evaluate(parse(source), resolve)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", Decimal(7)),
        ("(1 + 2) * 3", Decimal(9)),
        ("10 - 4 - 3", Decimal(3)),
        ("12 / 4 / 3", Decimal(1)),
        ("-2 * 3", Decimal(-6)),
        ("30% * 1000", Decimal(300)),
        ("min(5000, 30% * 20000)", Decimal(5000)),
        ("max(0, 3 - 8) * 100", Decimal(0)),
        ("round(10 / 3, 2)", Decimal("3.33")),
        ("if_else(1 < 2, 10, 20)", Decimal(10)),
        ("1 + 1 == 2", True),
        ("not 1 > 2", True),
        ("true or false and false", True),  # and binds tighter than or
        ("(true or false) and false", False),
        ("not true and false", False),  # not binds tighter than and
        ("'b' in ['a', 'b']", True),
        ("'c' not in ['a', 'b']", True),
        ("2026-01-01 <= today", True),
        ("today < 2026-01-01", False),
        ("years_between(2000-06-02, today)", Decimal(25)),
        ('"x" == "x"', True),
        ("1 == true", False),  # no coercion between types
        ("[1, 2][1]", Decimal(2)),
    ],
)
def test_expressions_follow_the_usual_precedence(source: str, expected: object) -> None:
    assert run(source) == expected


def test_tables_are_looked_up_by_key() -> None:
    limits = {Decimal(1): Decimal(100), Decimal(2): Decimal(150)}
    assert run("limits[min(size, 2)]", limits=limits, size=Decimal(5)) == Decimal(150)
    assert run("'a' in fees", fees={"a": Decimal(1)}) is True


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os')",
        "x.__class__",
        "open('f')",
        "().__class__.__bases__",
        "eval('1')",
        "lambda: 1",
        "a if b else c",
        "x ** 2",
        "_private",
        "1 +",
        "(1",
        "[1, 2",
        "f'{x}'",
        "x; y",
        "2026-13-01 < today",
        "Name",
        "a = 1",
        "",
        "not",
    ],
)
def test_anything_outside_the_grammar_is_refused(source: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse(source)
    assert raised.value.details["expression"]


def test_deep_nesting_is_refused_not_a_crash() -> None:
    with pytest.raises(ValidationFailed, match="Invalid expression"):
        parse("(" * 500 + "1" + ")" * 500)
    with pytest.raises(ValidationFailed):
        parse("not " * 500 + "true")
    with pytest.raises(ValidationFailed):
        parse("-" * 500 + "1")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_text_either_parses_or_is_refused(source: str) -> None:
    try:
        node = parse(source)
    except ValidationFailed:
        return
    assert isinstance(names_in(node), set)


ALPHABET = "abx_()[]., +-*/<>=!'\"%0123456789 notandorin__class__import"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=60))
def test_grammar_like_text_never_executes_code(source: str) -> None:
    touched: list[str] = []

    def resolve(name: str) -> object:
        touched.append(name)
        return Decimal(1)

    try:
        node = parse(source)
    except ValidationFailed:
        return
    with contextlib.suppress(RuleEvaluationError):  # a type mismatch is reported, never run
        evaluate(node, resolve)  # type: ignore[arg-type]
    assert all(not name.startswith("_") and "." not in name for name in touched)


def test_missing_inputs_are_unknown_and_say_which() -> None:
    assert run("income < 100 and size > 1") == Unknown(frozenset({"income", "size"}))
    assert run("income + 1") == Unknown(frozenset({"income"}))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("false and missing", False),  # a false conjunct decides
        ("missing and false", False),
        ("true or missing", True),  # a true disjunct decides
        ("missing or true", True),
        ("true and missing", Unknown(frozenset({"missing"}))),
        ("false or missing", Unknown(frozenset({"missing"}))),
        ("not missing", Unknown(frozenset({"missing"}))),
    ],
)
def test_and_or_follow_three_valued_logic(source: str, expected: object) -> None:
    assert run(source) == expected


@pytest.mark.parametrize("source", ["1 / 0", "'a' + 1", "1 < 'a'", "true + 1", "1 and true"])
def test_type_errors_are_rule_errors(source: str) -> None:
    with pytest.raises(RuleEvaluationError):
        run(source)


def test_names_in_lists_every_name_read() -> None:
    assert names_in(parse("a + min(b, c[d]) > 2 and e in [f]")) == {"a", "b", "c", "d", "e", "f"}
