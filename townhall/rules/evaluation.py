"""Evaluate a programme for one resident at one date, with the explanation of each decision.

Pure: takes the compiled programme, typed inputs, the date and the language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from townhall.core.errors import DomainError, ValidationFailed
from townhall.rules.expressions import Result, Unknown, Value, evaluate
from townhall.rules.schema import PLACEHOLDER, Input, Programme, Text, Version


class Outcome(StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    NEED_MORE_INFORMATION = "need_more_information"


class NotInForce(DomainError):
    """Raise when no version of a programme is in force on the date asked about."""

    code = "rules.not_in_force"


@dataclass(frozen=True)
class ConditionResult:
    id: str
    status: str  # "pass", "fail", "unknown" or "not_needed" (an outcome is already decided)
    explanation: str
    missing: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Decision:
    programme: str
    outcome: Outcome
    on: date
    amount: Decimal | None
    amount_explanation: str
    decided_by: tuple[str, ...]
    conditions: tuple[ConditionResult, ...]
    missing: tuple[str, ...]
    not_needed: tuple[str, ...]
    source: str

    @property
    def deciding(self) -> tuple[ConditionResult, ...]:
        return tuple(c for c in self.conditions if c.id in self.decided_by)

    @property
    def explanation(self) -> str:
        parts = [c.explanation for c in self.deciding]
        if self.amount_explanation:
            parts.append(self.amount_explanation)
        return " ".join(parts)


def pick(text: Text | None, language: str) -> str:
    """Return `text` in `language`, falling back to its base language, then to English."""
    if not text:
        return ""
    base = (language or "en").split("-")[0].lower()
    return text.get(language) or text.get(base) or text.get("en", "")


def format_value(value: Value, *, money: bool = False, currency: str = "$") -> str:
    """Render a value for a resident: thousands separated, money with two decimals."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        if money:
            whole = value == value.to_integral_value()
            return f"{currency}{value:,.0f}" if whole else f"{currency}{value:,.2f}"
        return f"{value.normalize():,f}" if value == value.to_integral_value() else f"{value:,}"
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        return ""
    return str(value)


def version_in_force(programme: Programme, on: date) -> Version:
    """Return the version of `programme` in force on `on`; raise NotInForce if there is none."""
    for version in programme.versions:
        if version.in_force(on):
            return version
    raise NotInForce(f"{programme.id} is not in force on {on.isoformat()}")


class _Scope:
    """Names an expression can read: inputs, tables, named values (computed once), today."""

    def __init__(
        self, programme: Programme, version: Version, inputs: Mapping[str, Value], on: date
    ) -> None:
        self.programme = programme
        self.version = version
        self.inputs = inputs
        self.on = on
        self.computed: dict[str, Result] = {}

    def __call__(self, name: str) -> Result:
        if name == "today":
            return self.on
        if name in self.version.tables:
            return self.version.tables[name]
        if name in self.programme.inputs:
            if name in self.inputs and self.inputs[name] is not None:
                return self.inputs[name]
            return Unknown(frozenset({name}))
        if name not in self.computed:
            self.computed[name] = evaluate(self.version.values[name], self)
        return self.computed[name]

    def render(self, text: Text, language: str, extra: Mapping[str, Value] | None = None) -> str:
        template = pick(text, language)

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if extra and name in extra:
                return format_value(extra[name], money=True, currency=self.programme.currency)
            value = self(name)
            if isinstance(value, Unknown):
                return "…"
            spec = self.programme.inputs.get(name)
            if spec is not None and spec.type == "choice":
                for option in spec.options:
                    if option.value == value:
                        return pick(option.label, language)
            if spec is not None and spec.type == "integer" and isinstance(value, Decimal):
                return str(int(value))
            money = spec is None or spec.type == "money"
            if spec is None and isinstance(value, Decimal):
                money = value != value.to_integral_value() or abs(value) >= 100
            return format_value(value, money=money, currency=self.programme.currency)

        return PLACEHOLDER.sub(replace, template)


def _check_inputs(programme: Programme, inputs: Mapping[str, Value]) -> None:
    unknown = sorted(set(inputs) - set(programme.inputs))
    if unknown:
        raise ValidationFailed(
            "Unknown inputs",
            details={name: ["is not an input of this programme"] for name in unknown},
        )


def programme_evaluate(
    programme: Programme, *, inputs: Mapping[str, Value], on: date, language: str = "en"
) -> Decision:
    """Decide eligibility: eligible, not eligible or need more information, and explain why.

    A condition that fails decides "not eligible" whatever the missing inputs would say, so
    missing inputs are asked for only when no condition has failed.
    """
    _check_inputs(programme, inputs)
    version = version_in_force(programme, on)
    scope = _Scope(programme, version, inputs, on)
    results: list[ConditionResult] = []
    for condition in version.conditions:
        value = evaluate(condition.when, scope)
        if isinstance(value, Unknown):
            status, text = "unknown", _unknown_text(programme, value.missing, language)
            missing = tuple(sorted(value.missing))
        else:
            if not isinstance(value, bool):
                raise ValidationFailed(
                    f"Condition {condition.id} did not give true or false",
                    details={condition.id: [f"gave {value!r}"]},
                )
            status = "pass" if value else "fail"
            text = scope.render(condition.passed if value else condition.failed, language)
            missing = ()
        results.append(
            ConditionResult(condition.id, status, text, missing, condition.source or version.source)
        )
    failed = tuple(r.id for r in results if r.status == "fail")
    unknown = [r for r in results if r.status == "unknown"]
    missing_all = tuple(sorted({name for r in unknown for name in r.missing}))
    amount: Decimal | None = None
    amount_text = ""
    if failed:
        results = [
            r
            if r.status != "unknown"
            else ConditionResult(
                r.id,
                "not_needed",
                _unknown_text(programme, frozenset(r.missing), language, _NOT_NEEDED),
                (),
                r.source,
            )
            for r in results
        ]
        return Decision(
            programme.id,
            Outcome.NOT_ELIGIBLE,
            on,
            None,
            "",
            failed,
            tuple(results),
            (),
            missing_all,
            version.source,
        )
    if not unknown and version.amount is not None:
        computed = evaluate(version.amount.expression, scope)
        if isinstance(computed, Unknown):
            missing_all = tuple(sorted(computed.missing))
        elif not isinstance(computed, Decimal) or isinstance(computed, bool):
            raise ValidationFailed(
                "The amount is not a number", details={"amount": [f"gave {computed!r}"]}
            )
        else:
            amount = computed.quantize(Decimal("0.01"))
            amount_text = scope.render(version.amount.explain, language, {"amount": amount})
    if unknown or missing_all:
        return Decision(
            programme.id,
            Outcome.NEED_MORE_INFORMATION,
            on,
            None,
            "",
            tuple(r.id for r in unknown) or ("amount",),
            tuple(results),
            missing_all,
            (),
            version.source,
        )
    return Decision(
        programme.id,
        Outcome.ELIGIBLE,
        on,
        amount,
        amount_text,
        tuple(r.id for r in results),
        tuple(results),
        (),
        (),
        version.source,
    )


_NOT_NEEDED = {
    "en": "Not answered ({questions}); the answer would not change the outcome.",
    "es": "Sin responder ({questions}); la respuesta no cambiaría el resultado.",
}
_UNKNOWN = {
    "en": "We need your answer to: {questions}",
    "es": "Necesitamos su respuesta a: {questions}",
}


def _unknown_text(
    programme: Programme, missing: frozenset[str], language: str, template: Text = _UNKNOWN
) -> str:
    questions = "; ".join(
        pick(programme.inputs[name].question, language) for name in sorted(missing)
    )
    return pick(template, language).replace("{questions}", questions)


# Bounds on a typed number (docs/security/input.md): digits typed, size, decimals.
NUMBER_TEXT_MAX = 30
NUMBER_DIGITS = 12  # whole digits: under a trillion
NUMBER_LIMIT = Decimal(10) ** NUMBER_DIGITS
NUMBER_DECIMALS = 6


def input_coerce(spec: Input, raw: object) -> Value:
    """Turn a raw answer (text from a form or the command line, or YAML data) into its type.

    Raise ValidationFailed (keyed by the input's name) if it does not fit.
    """

    def bad(message: str) -> ValidationFailed:
        return ValidationFailed(f"{spec.name}: {message}", details={spec.name: [message]})

    if raw is None or raw == "":
        return None
    if spec.type == "boolean":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("yes", "true", "1", "y", "si", "sí"):
            return True
        if text in ("no", "false", "0", "n"):
            return False
        raise bad("must be yes or no")
    if spec.type == "date":
        if isinstance(raw, date):
            return raw
        try:
            return date.fromisoformat(str(raw).strip())
        except ValueError:
            raise bad("must be a date (YYYY-MM-DD)") from None
    if spec.type == "choice":
        values = [o.value for o in spec.options]
        if str(raw) not in values:
            raise bad(f"must be one of {', '.join(values)}")
        return str(raw)
    if isinstance(raw, bool):
        raise bad("must be a number")
    text = str(raw).strip().replace(",", "").lstrip("$")
    if len(text) > NUMBER_TEXT_MAX:
        raise bad("must be a number")
    try:
        number = Decimal(text)
    except ArithmeticError:
        raise bad("must be a number") from None
    if not number.is_finite():
        raise bad("must be a number")
    # What a person could mean: "1e999999" is a valid Decimal whose arithmetic overflows
    # and whose printing takes seconds and megabytes.
    # (Read from the digits and exponent alone: abs() itself would overflow.)
    exponent = number.as_tuple().exponent
    if number and (number.adjusted() >= NUMBER_DIGITS or int(exponent) < -NUMBER_DECIMALS):
        raise bad(
            f"must be less than {format_value(NUMBER_LIMIT)} in size, "
            f"with at most {NUMBER_DECIMALS} decimals"
        )
    if spec.type == "integer" and number != number.to_integral_value():
        raise bad("must be a whole number")
    if spec.minimum is not None and number < spec.minimum:
        raise bad(f"must be at least {format_value(spec.minimum)}")
    if spec.maximum is not None and number > spec.maximum:
        raise bad(f"must be at most {format_value(spec.maximum)}")
    return number


def inputs_coerce(programme: Programme, raw: Mapping[str, object]) -> dict[str, Value]:
    """Coerce every raw answer; raise one ValidationFailed listing each bad or unknown input."""
    details: dict[str, list[str]] = {}
    values: dict[str, Value] = {}
    for name, value in raw.items():
        spec = programme.inputs.get(name)
        if spec is None:
            details[name] = ["is not an input of this programme"]
            continue
        try:
            values[name] = input_coerce(spec, value)
        except ValidationFailed as error:
            details.update(error.details)
    if details:
        raise ValidationFailed("Some answers are not valid", details=details)
    return values
