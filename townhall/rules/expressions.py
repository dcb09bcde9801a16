"""The condition language: a tiny parser and a three-valued evaluator. Never `eval`.

Grammar (lowest precedence first)::

    expr       := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := sum (("<" | "<=" | ">" | ">=" | "==" | "!=" | "in" | "not in") sum)?
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := "-" unary | postfix
    postfix    := primary ("[" expr "]")*
    primary    := NUMBER | NUMBER "%" | DATE | STRING | "true" | "false" | "today"
                | FUNCTION "(" expr ("," expr)* ")" | NAME | "(" expr ")" | "[" list "]"

Names are lower-case identifiers (no leading underscore, no dots): there is no attribute
access and the only calls are the functions in `FUNCTIONS`. A missing input evaluates to
`Unknown`, which carries the names that would settle it; `and`/`or` follow Kleene logic so
an already-decided branch makes the unknown one irrelevant.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TypeAlias

from townhall.core.errors import DomainError, ValidationFailed

MAX_LENGTH = 2000
MAX_DEPTH = 40


class RuleEvaluationError(DomainError):
    """Raise when a well-formed expression meets values of the wrong type (a rule bug)."""

    code = "rules.evaluation_error"


@dataclass(frozen=True)
class Unknown:
    """A value that depends on inputs not given yet."""

    missing: frozenset[str]


Value: TypeAlias = Decimal | bool | str | date | list["Value"] | dict[object, "Value"] | None
Result: TypeAlias = Value | Unknown


# --- AST -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: Value


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class ListOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Negate:
    operand: Node


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Index:
    target: Node
    key: Node


Node: TypeAlias = Literal | Name | ListOf | Negate | Not | Binary | Call | Index

KEYWORDS = {"and", "or", "not", "in", "true", "false", "today"}
COMPARISONS = {"<", "<=", ">", ">=", "==", "!="}

# --- tokens --------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    |(?P<date>\d{4}-\d{2}-\d{2})
    |(?P<number>\d+(?:\.\d+)?%?)
    |(?P<string>"[^"\\\n]*"|'[^'\\\n]*')
    |(?P<name>[a-z][a-z0-9_]*)
    |(?P<op><=|>=|==|!=|[<>+\-*/()\[\],])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    at: int


def _fail(source: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"Invalid expression: {message}", details={"expression": [f"{message} in {source!r}"]}
    )


def tokenize(source: str) -> list[Token]:
    """Split `source` into tokens; raise ValidationFailed on any character outside the grammar."""
    if len(source) > MAX_LENGTH:
        raise _fail(source[:40] + "…", f"longer than {MAX_LENGTH} characters")
    tokens: list[Token] = []
    at = 0
    while at < len(source):
        match = _TOKEN.match(source, at)
        if match is None:
            raise _fail(source, f"unexpected {source[at]!r} at position {at + 1}")
        kind = match.lastgroup or ""
        if kind != "space":
            text = match.group()
            if kind == "name" and text in KEYWORDS:
                kind = "keyword"
            tokens.append(Token(kind, text, at))
        at = match.end()
    tokens.append(Token("end", "", len(source)))
    return tokens


# --- parser --------------------------------------------------------------------------------


class _Parser:
    def __init__(self, source: str, functions: Mapping[str, object]) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.pos = 0
        self.depth = 0
        self.functions = functions

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def accept(self, text: str) -> bool:
        token = self.peek()
        if token.kind in ("op", "keyword") and token.text == text:
            self.pos += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise self.error(f"expected {text!r}")

    def error(self, message: str) -> ValidationFailed:
        token = self.peek()
        where = "the end" if token.kind == "end" else f"{token.text!r} at {token.at + 1}"
        return _fail(self.source, f"{message}, found {where}")

    def parse(self) -> Node:
        node = self.expression()
        if self.peek().kind != "end":
            raise self.error("expected the end of the expression")
        return node

    def expression(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _fail(self.source, f"nested deeper than {MAX_DEPTH} levels")
        try:
            return self.disjunction()
        finally:
            self.depth -= 1

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.accept("or"):
            node = Binary("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.accept("and"):
            node = Binary("and", node, self.negation())
        return node

    def negation(self) -> Node:
        if self.peek().text == "not" and self.peek().kind == "keyword":
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _fail(self.source, f"nested deeper than {MAX_DEPTH} levels")
            try:
                return Not(self.negation())
            finally:
                self.depth -= 1
        return self.comparison()

    def comparison(self) -> Node:
        node = self.sum()
        token = self.peek()
        if token.kind == "op" and token.text in COMPARISONS:
            self.take()
            return Binary(token.text, node, self.sum())
        if token.kind == "keyword" and token.text == "in":
            self.take()
            return Binary("in", node, self.sum())
        if token.text == "not" and self.peek(1).text == "in":
            self.pos += 2
            return Binary("not in", node, self.sum())
        return node

    def sum(self) -> Node:
        node = self.product()
        while self.peek().kind == "op" and self.peek().text in ("+", "-"):
            op = self.take().text
            node = Binary(op, node, self.product())
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.peek().kind == "op" and self.peek().text in ("*", "/"):
            op = self.take().text
            node = Binary(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.accept("-"):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _fail(self.source, f"nested deeper than {MAX_DEPTH} levels")
            try:
                return Negate(self.unary())
            finally:
                self.depth -= 1
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while self.accept("["):
            node = Index(node, self.expression())
            self.expect("]")
        return node

    def primary(self) -> Node:
        token = self.peek()
        if token.kind == "number":
            self.take()
            if token.text.endswith("%"):
                return Literal(Decimal(token.text[:-1]) / 100)
            return Literal(Decimal(token.text))
        if token.kind == "date":
            self.take()
            try:
                return Literal(date.fromisoformat(token.text))
            except ValueError:
                raise _fail(self.source, f"{token.text!r} is not a real date") from None
        if token.kind == "string":
            self.take()
            return Literal(token.text[1:-1])
        if token.kind == "keyword" and token.text in ("true", "false"):
            self.take()
            return Literal(token.text == "true")
        if token.kind == "keyword" and token.text == "today":
            self.take()
            return Name("today")
        if token.kind == "name":
            self.take()
            if self.peek().text == "(" and self.peek().kind == "op":
                if token.text not in self.functions:
                    known = ", ".join(sorted(self.functions))
                    raise _fail(
                        self.source, f"unknown function {token.text!r} (functions: {known})"
                    )
                self.take()
                args = [self.expression()]
                while self.accept(","):
                    args.append(self.expression())
                self.expect(")")
                least, most = ARITY[token.text]
                if not least <= len(args) <= most:
                    raise _fail(
                        self.source,
                        f"{token.text} takes {least}"
                        + (f" to {most}" if most != least else "")
                        + f" argument(s), not {len(args)}",
                    )
                return Call(token.text, tuple(args))
            return Name(token.text)
        if self.accept("("):
            node = self.expression()
            self.expect(")")
            return node
        if self.accept("["):
            items: list[Node] = []
            if not self.accept("]"):
                items.append(self.expression())
                while self.accept(","):
                    items.append(self.expression())
                self.expect("]")
            return ListOf(tuple(items))
        raise self.error("expected a value")


def parse(source: str) -> Node:
    """Parse `source` into an AST; raise ValidationFailed if it is outside the grammar."""
    if not isinstance(source, str):
        raise _fail(repr(source), "an expression must be text")
    return _Parser(source, FUNCTIONS).parse()


def names_in(node: Node) -> set[str]:
    """Return every name an expression reads (inputs, values, tables, `today`)."""
    if isinstance(node, Name):
        return {node.name}
    if isinstance(node, Literal):
        return set()
    if isinstance(node, ListOf | Call):
        children = node.items if isinstance(node, ListOf) else node.args
        return set().union(*(names_in(child) for child in children)) if children else set()
    if isinstance(node, Negate | Not):
        return names_in(node.operand)
    if isinstance(node, Binary):
        return names_in(node.left) | names_in(node.right)
    return names_in(node.target) | names_in(node.key)


# --- evaluation ----------------------------------------------------------------------------


def _number(value: Value, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal):
        raise RuleEvaluationError(f"{what} needs a number, got {value!r}")
    return value


def _round(*args: Value) -> Value:
    places = int(_number(args[1], "round")) if len(args) > 1 else 0
    try:
        return _number(args[0], "round").quantize(
            Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP
        )
    except InvalidOperation:
        raise RuleEvaluationError("round: the number cannot be rounded like that") from None


def _years_between(*args: Value) -> Value:
    start, end = args[0], args[1]
    if not isinstance(start, date) or not isinstance(end, date):
        raise RuleEvaluationError("years_between needs two dates")
    years = end.year - start.year - ((end.month, end.day) < (start.month, start.day))
    return Decimal(years)


def _min(*args: Value) -> Value:
    return min(_number(a, "min") for a in args)


def _max(*args: Value) -> Value:
    return max(_number(a, "max") for a in args)


def _if_else(*args: Value) -> Value:
    if len(args) != 3 or not isinstance(args[0], bool):
        raise RuleEvaluationError("if_else needs a condition, a value if true, a value if false")
    return args[1] if args[0] else args[2]


# (least, most) arguments each function takes; checked when an expression is parsed
ARITY: dict[str, tuple[int, int]] = {
    "if_else": (3, 3),
    "min": (1, 20),
    "max": (1, 20),
    "round": (1, 2),
    "years_between": (2, 2),
}

FUNCTIONS: dict[str, Callable[..., Value]] = {
    "if_else": _if_else,
    "min": _min,
    "max": _max,
    "round": _round,
    "years_between": _years_between,
}


Resolver = Callable[[str], Result]


def evaluate(node: Node, resolve: Resolver) -> Result:
    """Evaluate `node`, reading names through `resolve`; return a value or `Unknown`."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Name):
        return resolve(node.name)
    if isinstance(node, Binary) and node.op in ("and", "or"):
        return _logical(node, resolve)
    if isinstance(node, Not):
        operand = evaluate(node.operand, resolve)
        if isinstance(operand, Unknown):
            return operand
        return not _truth(operand)
    children: list[Result]
    if isinstance(node, ListOf):
        children = [evaluate(item, resolve) for item in node.items]
    elif isinstance(node, Call):
        children = [evaluate(arg, resolve) for arg in node.args]
    elif isinstance(node, Negate):
        children = [evaluate(node.operand, resolve)]
    elif isinstance(node, Binary):
        children = [evaluate(node.left, resolve), evaluate(node.right, resolve)]
    else:
        children = [evaluate(node.target, resolve), evaluate(node.key, resolve)]
    unknowns = [c for c in children if isinstance(c, Unknown)]
    if unknowns:
        return Unknown(frozenset().union(*(u.missing for u in unknowns)))
    values: list[Value] = [c for c in children if not isinstance(c, Unknown)]
    if isinstance(node, ListOf):
        return values
    if isinstance(node, Call):
        return FUNCTIONS[node.function](*values)
    if isinstance(node, Negate):
        return -_number(values[0], "-")
    if isinstance(node, Index):
        return _lookup(values[0], values[1])
    assert isinstance(node, Binary)
    return _binary(node.op, values[0], values[1])


def _truth(value: Value) -> bool:
    if not isinstance(value, bool):
        raise RuleEvaluationError(f"a condition needs true or false, got {value!r}")
    return value


def _logical(node: Binary, resolve: Resolver) -> Result:
    deciding = node.op == "or"  # `true` decides an `or`, `false` decides an `and`
    left = evaluate(node.left, resolve)
    if not isinstance(left, Unknown) and _truth(left) is deciding:
        return deciding
    right = evaluate(node.right, resolve)
    if not isinstance(right, Unknown) and _truth(right) is deciding:
        return deciding
    if isinstance(left, Unknown) or isinstance(right, Unknown):
        missing: frozenset[str] = frozenset()
        for side in (left, right):
            if isinstance(side, Unknown):
                missing |= side.missing
        return Unknown(missing)
    return not deciding


def _lookup(table: Value, key: Value) -> Value:
    if isinstance(table, list):
        index = _number(key, "a list position")
        if index != index.to_integral_value() or not 0 <= index < len(table):
            raise RuleEvaluationError(f"the list has no position {key!r}")
        return table[int(index)]
    if not isinstance(table, dict):
        raise RuleEvaluationError(f"only tables and lists can be looked up, not {table!r}")
    if isinstance(key, list | dict) or key not in table:
        raise RuleEvaluationError(f"the table has no row {key!r}")
    return table[key]


def _binary(op: str, left: Value, right: Value) -> Value:
    if op in ("in", "not in"):
        if not isinstance(right, list | dict):
            raise RuleEvaluationError(f"`{op}` needs a list or a table on its right")
        if isinstance(right, dict) and isinstance(left, list | dict):
            raise RuleEvaluationError(f"a table has no row {left!r}")
        found = left in right
        return found if op == "in" else not found
    if op in ("==", "!="):
        same = type(left) is type(right) and left == right
        return same if op == "==" else not same
    if op in COMPARISONS:
        if isinstance(left, date) and isinstance(right, date):
            a: Decimal | date = left
            b: Decimal | date = right
        else:
            a, b = _number(left, op), _number(right, op)
        if op == "<":
            return a < b  # type: ignore[operator]
        if op == "<=":
            return a <= b  # type: ignore[operator]
        if op == ">":
            return a > b  # type: ignore[operator]
        return a >= b  # type: ignore[operator]
    x, y = _number(left, op), _number(right, op)
    try:
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        return x / y
    except ArithmeticError:  # division by zero, overflow, invalid operation
        raise RuleEvaluationError(f"cannot compute {x} {op} {y}") from None
