"""Form fields for a service's own questions (Open311 attributes), shared by every face."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from townhall.catalog.attributes import AttributeSpec

RADIOS_UP_TO = 8  # longer lists are a select


def attribute_form_field(spec: AttributeSpec) -> forms.Field:
    """The form field that asks a service's question, with messages for residents."""
    label = spec.description or spec.code
    common: dict[str, Any] = {
        "label": label,
        "required": spec.required,
        "help_text": spec.datatype_description,
    }
    choices = list(zip(spec.values, spec.value_names or spec.values, strict=False))
    if spec.datatype == "number":
        return forms.DecimalField(
            **common,
            localize=True,  # "2,5" in Spanish, "2.5" in English
            max_digits=12,
            decimal_places=4,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "govuk-input--width-5"}),
            error_messages={"invalid": _("Enter a number, like 3 or 2.5.")},
        )
    if spec.datatype == "datetime":
        return forms.DateTimeField(
            **common,
            input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            error_messages={"invalid": _("Enter a date and time, like 2026-11-23 08:30.")},
        )
    if spec.datatype == "text":
        return forms.CharField(**common, max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    if spec.datatype == "singlevaluelist":
        if len(choices) <= RADIOS_UP_TO:
            return forms.ChoiceField(**common, choices=choices, widget=forms.RadioSelect)
        return forms.ChoiceField(**common, choices=[("", _("Choose one")), *choices])
    if spec.datatype == "multivaluelist":
        return forms.MultipleChoiceField(
            **common, choices=choices, widget=forms.CheckboxSelectMultiple
        )
    return forms.CharField(**common, max_length=500)


def form_answers(form: forms.Form, specs: Sequence[AttributeSpec]) -> dict[str, object]:
    """The answers given in `form`'s attribute fields, keyed by attribute code."""
    out: dict[str, object] = {}
    for spec in specs:
        value = form.cleaned_data.get(f"attribute_{spec.code}")
        if value in (None, "", []):
            continue
        out[spec.code] = str(value) if spec.datatype == "number" else value
    return out
