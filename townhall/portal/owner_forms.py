"""The forms the proven owner of a report uses on its page: add an update, withdraw it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from townhall.cases.resident import REASON_MAX, UPDATE_MAX


class ResidentUpdateForm(forms.Form):
    text = forms.CharField(
        label=_("Your update"),
        help_text=_("For example, the problem got worse, or a detail we should know."),
        max_length=UPDATE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("Enter your update"),
            "max_length": _("Your update must be 2,000 characters or fewer"),
        },
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you withdrawing it? (optional)"),
        max_length=REASON_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": _("Your reason must be 500 characters or fewer")},
    )
