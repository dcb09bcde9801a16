"""Check a resident's answers against a service type's Open311 attribute definitions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_datetime

from townhall.catalog.i18n import localized_from
from townhall.core.errors import ValidationFailed


@dataclass(frozen=True)
class AttributeSpec:
    """What the validator needs to know of an attribute definition."""

    code: str
    datatype: str
    required: bool
    variable: bool = True
    values: tuple[str, ...] = ()
    description: str = ""
    value_names: tuple[str, ...] = ()  # what residents read for each of `values`
    datatype_description: str = ""
    translations: Mapping[str, object] = field(default_factory=dict, compare=False, hash=False)

    def in_language(self, language: str | None = None) -> AttributeSpec:
        """This question worded in `language` (default: the active one) where translated."""
        if not self.translations:
            return self
        names = localized_from(self.translations, "values", {}, language)
        return replace(
            self,
            description=localized_from(
                self.translations, "description", self.description, language
            ),
            datatype_description=localized_from(
                self.translations, "datatype_description", self.datatype_description, language
            ),
            value_names=tuple(
                str(names.get(key) or name) if isinstance(names, Mapping) else name
                for key, name in zip(self.values, self.value_names or self.values, strict=False)
            ),
        )


def _one(spec: AttributeSpec, raw: object) -> tuple[object, str | None]:
    if spec.datatype in {"string", "text"}:
        text = str(raw).strip()
        if spec.datatype == "string" and len(text) > 500:
            return None, "Keep this under 500 characters."
        return text, None
    if spec.datatype == "number":
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            return None, "Enter a number."
        if not number.is_finite():
            return None, "Enter a number."
        return (int(number) if number == number.to_integral_value() else float(number)), None
    if spec.datatype == "datetime":
        value = raw if isinstance(raw, datetime) else parse_datetime(str(raw).strip())
        if value is None:
            return None, "Enter a date and time such as 2026-11-23T08:30:00-05:00."
        return value.isoformat(), None
    if spec.datatype == "singlevaluelist":
        key = str(raw[0] if isinstance(raw, list | tuple) and len(raw) == 1 else raw)
        if key not in spec.values:
            return None, f"Choose one of: {', '.join(spec.values)}."
        return key, None
    if spec.datatype == "multivaluelist":
        keys = [str(k) for k in (raw if isinstance(raw, list | tuple) else [raw])]
        unknown = [k for k in keys if k not in spec.values]
        if unknown:
            return (
                None,
                f"Unknown choice {', '.join(unknown)}; choose from {', '.join(spec.values)}.",
            )
        return sorted(set(keys), key=spec.values.index), None
    return None, f"Unsupported datatype {spec.datatype}."


def _blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str | list | tuple) and len(raw) == 0) or raw == [""]


def answers_clean(
    *, specs: Sequence[AttributeSpec], answers: Mapping[str, object], partial: bool = False
) -> dict[str, object]:
    """Return `answers` normalised per datatype, keyed by attribute code.

    Raise ValidationFailed listing every missing required answer, malformed value and
    unknown attribute code at once, so a form or API client can fix them in one go.
    With `partial`, missing answers are allowed: the channel could not ask the questions
    (an e-mail, a text), and staff ask them when they pick the case up.
    """
    errors: dict[str, list[str]] = {}
    clean: dict[str, object] = {}
    known = {spec.code: spec for spec in specs if spec.variable}
    for code in answers:
        if code not in known:
            errors[code] = ["This service has no such question."]
    for code, spec in known.items():
        raw = answers.get(code)
        if _blank(raw):
            if spec.required and not partial:
                errors[code] = [f"{spec.description or code}: this answer is required."]
            continue
        value, problem = _one(spec, raw)
        if problem:
            errors[code] = [problem]
        else:
            clean[code] = value
    if errors:
        raise ValidationFailed("Some answers need attention.", details=errors)
    return clean
