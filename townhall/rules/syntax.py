"""The condition language's syntax: values, the tree an expression parses into, the
tokenizer and the parser. Never `eval`.

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
access and the only calls are the functions of `ARITY` (evaluated by `expressions`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeAlias

from townhall.core.errors import ValidationFailed

MAX_LENGTH = 2000
MAX_DEPTH = 40


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
    return _Parser(source, ARITY).parse()


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


# (least, most) arguments each function takes; checked when an expression is parsed
ARITY: dict[str, tuple[int, int]] = {
    "if_else": (3, 3),
    "min": (1, 20),
    "max": (1, 20),
    "round": (1, 2),
    "years_between": (2, 2),
}
