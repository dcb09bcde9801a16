"""Template helpers for GOV.UK Frontend markup."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms, template

from townhall.catalog.i18n import localized
from townhall.core import dates

register = template.Library()


@register.filter
def widget_kind(field: forms.BoundField) -> str:
    """One of text, textarea, radios, checkboxes, select, file, hidden, datetime."""
    widget = field.field.widget
    if isinstance(widget, forms.HiddenInput):
        return "hidden"
    if isinstance(widget, forms.CheckboxSelectMultiple):  # a RadioSelect subclass: first
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if isinstance(widget, forms.FileInput):
        return "file"
    if isinstance(widget, forms.DateTimeInput):
        return "datetime"
    return "text"


@register.filter
def input_type(field: forms.BoundField) -> str:
    return str(getattr(field.field.widget, "input_type", "text") or "text")


@register.filter
def extra_class(field: forms.BoundField) -> str:
    return str(field.field.widget.attrs.get("class", ""))


@register.filter
def selected(field: forms.BoundField, value: object) -> bool:
    """True if `value` is (one of) the field's current value(s)."""
    current = field.value()
    if isinstance(current, list | tuple):
        return str(value) in {str(v) for v in current}
    return current is not None and str(current) == str(value)


@register.filter
def long_date(value: dt.date | None) -> str:
    """The weekday and the date in the active language's own order."""
    return dates.long_date(value)


@register.filter(name="tr")
def translated(obj: Any, field: str) -> Any:
    """A catalogue row's field in the active language: ``{{ service|tr:"name" }}``."""
    return localized(obj, field) if obj is not None else ""
