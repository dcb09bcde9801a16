"""Console forms: every message says what to do, next to its field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from townhall.cases.lifecycle import CaseStatus, allowed_next
from townhall.catalog.models import Priority


class NoteForm(forms.Form):
    VISIBILITY = [
        ("internal", _("Internal note – staff only")),
        ("public", _("Public update – the resident sees it and is told")),
    ]
    text = forms.CharField(
        label=_("Note or update"),
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


class StatusForm(forms.Form):
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
        choices = [
            (s, CaseStatus(s).label) for s in allowed_next(current) if s != CaseStatus.DUPLICATE
        ]
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
