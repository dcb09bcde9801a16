"""The condition language evaluated: three-valued logic over the tree `syntax` parses.

A missing input evaluates to `Unknown`, which carries the names that would settle it;
`and`/`or` follow Kleene logic so an already-decided branch makes the unknown one
irrelevant. The grammar, the parser and `names_in` live in `townhall.rules.syntax`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from townhall.core.errors import DomainError
from townhall.rules.syntax import (
    ARITY,
    COMPARISONS,
    Binary,
    Call,
    Index,
    ListOf,
    Literal,
    Name,
    Negate,
    Node,
    Not,
    Result,
    Unknown,
    Value,
    names_in,
    parse,
)

__all__ = [
    "FUNCTIONS",
    "Node",
    "Result",
    "RuleEvaluationError",
    "Unknown",
    "Value",
    "evaluate",
    "names_in",
    "parse",
]


class RuleEvaluationError(DomainError):
    """Raise when a well-formed expression meets values of the wrong type (a rule bug)."""

    code = "rules.evaluation_error"


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


FUNCTIONS: dict[str, Callable[..., Value]] = {
    "if_else": _if_else,
    "min": _min,
    "max": _max,
    "round": _round,
    "years_between": _years_between,
}


# the parser knows each function's arity; this module, what it does: the same names
assert FUNCTIONS.keys() == ARITY.keys()

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
