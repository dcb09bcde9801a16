"""Console forms: every message says what to do, next to its field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from townhall.cases.lifecycle import CaseStatus, allowed_next
from townhall.catalog.attributes import AttributeSpec
from townhall.catalog.forms import attribute_form_field, form_answers
from townhall.catalog.models import Priority
from townhall.console.labels import staff_status_choices


class _Ids(forms.Form):
    """Forms that share the case page get ids of their own (`status-note`, `time-note`)."""

    id_prefix = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if self.id_prefix:
            kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


class NoteForm(forms.Form):
    VISIBILITY = [
        ("internal", _("Internal note – staff only")),
        ("public", _("Public update – the resident sees it and is told")),
    ]
    text = forms.CharField(
        label=_("Note or update"),
        help_text=_("Mention a colleague with @ and their username to bring them in."),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write the note or update.")},
    )
    visibility = forms.ChoiceField(
        label=_("Who sees it"),
        choices=VISIBILITY,
        initial="internal",
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose who sees it.")},
    )


class StatusForm(_Ids):
    id_prefix = "status"

    to = forms.ChoiceField(
        label=_("New status"), error_messages={"required": _("Choose a status.")}
    )
    note = forms.CharField(
        label=_("Message to the resident (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, current: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = staff_status_choices(
            s for s in allowed_next(current) if s != CaseStatus.DUPLICATE
        )
        field = self.fields["to"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Choose a status")), *choices]


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label=_("Assign to"), required=False)

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Nobody – back to the team's queue")), *members]


class MergeForm(forms.Form):
    into = forms.CharField(
        label=_("Reference of the case this repeats"),
        help_text=_("For example TH-26-004211. This case closes as its duplicate."),
        max_length=40,
        error_messages={"required": _("Enter the reference of the original case.")},
    )


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)


class PublicSummaryForm(forms.Form):
    summary = forms.CharField(
        label=_("Public summary"),
        help_text=_(
            "Shown on public pages and Open311 instead of the resident's words (their contact "
            "details are masked either way). Leave empty to publish the masked words."
        ),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class BulkForm(forms.Form):
    ACTIONS = [("take", _("Assign to me")), ("release", _("Back to the team's queue"))]
    cases = forms.TypedMultipleChoiceField(
        coerce=int,
        error_messages={"required": _("Select at least one case.")},
    )
    action = forms.ChoiceField(choices=ACTIONS, label=_("With the selected cases"))

    def __init__(self, *args: Any, case_ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["cases"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(str(pk), str(pk)) for pk in case_ids]


class FindForm(forms.Form):
    reference = forms.CharField(label=_("Find a case by reference"), max_length=40)


class DueForm(_Ids):
    id_prefix = "due"

    due_at = forms.DateTimeField(
        label=_("New due date and time"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={
            "required": _("Enter the new due date and time."),
            "invalid": _("Enter a date and time like 2026-12-01 16:00."),
        },
    )
    reason = forms.CharField(
        label=_("Why (kept on record, not shown to the resident)"),
        max_length=500,
        error_messages={"required": _("Say why the date changes.")},
    )


class TransferForm(_Ids):
    id_prefix = "transfer"

    department = forms.ChoiceField(
        label=_("Move to department"), error_messages={"required": _("Choose a department.")}
    )
    reason = forms.CharField(
        label=_("Why"), max_length=500, error_messages={"required": _("Say why the case moves.")}
    )

    def __init__(self, *args: Any, departments: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Choose a department")), *departments]


class TimeForm(_Ids):
    id_prefix = "time"

    minutes = forms.IntegerField(
        label=_("Minutes spent"),
        min_value=1,
        max_value=24 * 60,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-4"}),
        error_messages={
            "required": _("Enter the minutes you spent."),
            "invalid": _("Enter a whole number of minutes."),
            "min_value": _("Enter at least 1 minute."),
            "max_value": _("Enter at most 1440 minutes (a day)."),
        },
    )
    note = forms.CharField(label=_("On what (optional)"), max_length=200, required=False)


class CallerSearchForm(forms.Form):
    contact = forms.CharField(
        label=_("Caller's phone number or e-mail address"),
        max_length=200,
        error_messages={"required": _("Enter the caller's phone number or e-mail address.")},
    )


class CallCaseForm(forms.Form):
    """A new case from a phone call."""

    service = forms.ChoiceField(
        label=_("Service"), error_messages={"required": _("Choose a service.")}
    )
    description = forms.CharField(
        label=_("What the caller said"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write down what the caller said.")},
    )
    address = forms.CharField(label=_("Where (address)"), max_length=300, required=False)
    name = forms.CharField(label=_("Caller's name"), max_length=200, required=False)
    phone = forms.CharField(label=_("Caller's phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("Caller's e-mail"), required=False)

    def __init__(
        self,
        *args: Any,
        services: list[tuple[str, str]],
        specs: Sequence[AttributeSpec] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["service"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Choose a service")), *services]
        self.specs = [s for s in specs if s.variable]
        for spec in self.specs:  # the chosen service's own questions, asked on the phone
            self.fields[f"attribute_{spec.code}"] = attribute_form_field(spec)

    def answers(self) -> dict[str, object]:
        return form_answers(self, self.specs)


class CallUpdateForm(forms.Form):
    """What a caller said about an existing case."""

    text = forms.CharField(
        label=_("What the caller said"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write down what the caller said.")},
    )


class SavedViewForm(forms.Form):
    name = forms.CharField(
        label=_("Save this view as"),
        max_length=60,
        error_messages={"required": _("Give the view a name.")},
    )


class TwoStepForm(forms.Form):
    code = forms.CharField(
        label=_("The 6-digit code your app shows now"),
        max_length=10,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "class": "govuk-input--width-5",
            }
        ),
        error_messages={"required": _("Enter the code from your authenticator app.")},
    )


class SplitForm(_Ids):
    id_prefix = "split"

    """Part of a case that belongs to another service: a new case for the same resident."""

    service = forms.ChoiceField(
        label=_("Service for the new case"), error_messages={"required": _("Choose a service.")}
    )
    description = forms.CharField(
        label=_("What the new case is about"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what the new case is about.")},
    )

    def __init__(
        self,
        *args: Any,
        services: list[tuple[str, str]],
        specs: Sequence[AttributeSpec] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["service"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Choose a service")), *services]
        self.specs = [s for s in specs if s.variable]
        for spec in self.specs:
            self.fields[f"attribute_{spec.code}"] = attribute_form_field(spec)

    def answers(self) -> dict[str, object]:
        return form_answers(self, self.specs)


class VerifyForm(forms.Form):
    code = forms.CharField(
        label=_("The code your authenticator app shows now, or one of your backup codes"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "class": "govuk-input--width-10"}
        ),
        error_messages={"required": _("Enter the code from your authenticator app.")},
    )
