"""The catalogue in residents' languages.

Departments, groups, service types and questions keep their words in the council's main
language in their own columns, and the other languages in a `translations` JSON field:

    {"es": {"name": "Bache", "description": "…", "keywords": ["bache", "hoyo"]}}
    {"es": {"description": "¿Qué tamaño tiene?", "values": {"small": "Pequeño"}}}  # a question

A missing language or field falls back to the main wording, so a half-translated catalogue
still reads whole. `translations_check` says what is wrong with a value, field by field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.deconstruct import deconstructible

# Which fields each kind of catalogue row may translate, and their JSON type.
TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "department": ("name", "description"),
    "group": ("name", "description"),
    "service": ("name", "description"),
    "attribute": ("description", "datatype_description"),
}
LIST_FIELDS: dict[str, tuple[str, ...]] = {"service": ("keywords",)}
MAP_FIELDS: dict[str, tuple[str, ...]] = {"attribute": ("values",)}


def _languages() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


def translations_check(value: object, *, kind: str) -> list[str]:
    """Every problem with a `translations` value for a row of `kind`, as sentences."""
    if value in (None, ""):
        return []
    if not isinstance(value, Mapping):
        return ['Translations must be an object such as {"es": {"name": "…"}}.']
    problems: list[str] = []
    known = _languages()
    allowed = TEXT_FIELDS[kind] + LIST_FIELDS.get(kind, ()) + MAP_FIELDS.get(kind, ())
    for language, fields in value.items():
        if language not in known:
            problems.append(
                f"{language!r} is not one of the site's languages ({', '.join(sorted(known))})."
            )
            continue
        if not isinstance(fields, Mapping):
            problems.append(f"{language}: give an object of fields ({', '.join(allowed)}).")
            continue
        for name, text in fields.items():
            where = f"{language}.{name}"
            if name not in allowed:
                problems.append(f"{where}: only {', '.join(allowed)} can be translated.")
            elif name in LIST_FIELDS.get(kind, ()):
                if not isinstance(text, list) or not all(isinstance(t, str) for t in text):
                    problems.append(f"{where}: give a list of words.")
            elif name in MAP_FIELDS.get(kind, ()):
                if not isinstance(text, Mapping) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in text.items()
                ):
                    problems.append(f'{where}: give an object of value names {{"key": "name"}}.')
            elif not isinstance(text, str):
                problems.append(f"{where}: give text.")
            elif len(text) > 4000:
                problems.append(f"{where}: keep it under 4,000 characters.")
    return problems


def _fields_for(translations: object, language: str | None) -> Mapping[str, Any]:
    if not translations or not isinstance(translations, Mapping):
        return {}
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    for code in (language, language.split("-")[0]):
        fields = translations.get(code)
        if isinstance(fields, Mapping):
            return fields
    return {}


def localized(obj: Any, field: str, language: str | None = None) -> Any:
    """`obj.<field>` in `language` (default: the active one), else the main wording."""
    value = _fields_for(getattr(obj, "translations", None), language).get(field)
    return value if value else getattr(obj, field)


def localized_from(
    translations: object, field: str, default: Any, language: str | None = None
) -> Any:
    """The same, for plain data that carries a `translations` mapping."""
    value = _fields_for(translations, language).get(field)
    return value if value else default


def language_words(translations: object) -> list[tuple[str, str, list[str], str]]:
    """(language, name, keywords, description) for each translated language of a service."""
    if not translations or not isinstance(translations, Mapping):
        return []
    out = []
    for language, fields in translations.items():
        if isinstance(fields, Mapping):
            keywords = fields.get("keywords") or []
            out.append(
                (
                    str(language),
                    str(fields.get("name") or ""),
                    [str(k) for k in keywords] if isinstance(keywords, list) else [],
                    str(fields.get("description") or ""),
                )
            )
    return out


@deconstructible
class TranslationsValidator:
    """Model-field validator: `translations_check` as a ValidationError (admin, full_clean)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __call__(self, value: object) -> None:
        problems = translations_check(value, kind=self.kind)
        if problems:
            raise ValidationError(problems)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TranslationsValidator) and other.kind == self.kind

    def __hash__(self) -> int:
        return hash(self.kind)


def translations_field(kind: str, example: str) -> Any:
    """The `translations` JSON field of a catalogue model."""
    from django.db import models
    from django.utils.text import format_lazy
    from django.utils.translation import gettext_lazy as _

    return models.JSONField(
        default=dict,
        blank=True,
        validators=[TranslationsValidator(kind)],
        help_text=format_lazy(
            "{} {}",
            _("Other languages; what is left out reads in the main wording. Example:"),
            example,
        ),
    )
