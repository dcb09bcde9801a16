"""Portal forms. Every message is written for a resident and shown next to its field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from townhall.cases.photos import CleanPhoto, InvalidPhoto, photo_clean
from townhall.catalog.attributes import AttributeSpec
from townhall.catalog.forms import attribute_form_field, form_answers
from townhall.core.errors import ValidationFailed
from townhall.intake.staging import StagedPhotoGone, photo_unstage
from townhall.people.contacts import phone_normalise
from townhall.places.selectors import PlaceMatch, place_search


class ServiceSearchForm(forms.Form):
    q = forms.CharField(
        label=_("What do you want to report or ask about?"),
        help_text=_("For example: rubbish on the pavement, broken streetlight, missed bin."),
        max_length=200,
        error_messages={
            "required": _("Enter what you want to report or ask about"),
            "max_length": _("What you are looking for must be 200 characters or fewer"),
        },
    )


class TrackForm(forms.Form):
    reference = forms.CharField(
        label=_("Your reference number"),
        help_text=_("It looks like TH-26-004211 and is in your acknowledgment."),
        max_length=40,
        error_messages={
            "required": _("Enter your reference number"),
            "max_length": _("A reference number is shorter: it looks like TH-26-004211"),
        },
    )


class AddressForm(forms.Form):
    address = forms.CharField(
        label=_("Address or street"),
        help_text=_("For example: 12 Elm Street. You can also choose the place on the map."),
        max_length=200,
        error_messages={
            "required": _("Enter an address or the name of a street"),
            "max_length": _("The address must be 200 characters or fewer"),
        },
    )


class PlaceSearchForm(forms.Form):
    """An address or postcode to find (bin days, alerts around an address, notices near it)."""

    q = forms.CharField(
        label=_("Your address or postcode"),
        max_length=200,
        error_messages={
            "required": _("Enter your address or postcode"),
            "max_length": _("An address is at most 200 characters"),
        },
    )


def place_search_from(request: HttpRequest) -> tuple[PlaceSearchForm, list[PlaceMatch]]:
    """The address search of a GET page: the form (bound when ?q= was given, with an error
    when nothing matches) and up to ten matching addresses, best first."""
    form = PlaceSearchForm(request.GET if "q" in request.GET else None)
    matches: list[PlaceMatch] = []
    if form.is_bound and form.is_valid():
        matches = place_search(form.cleaned_data["q"], limit=10)
        if not matches:
            form.add_error("q", _("We could not find that address. Check it and try again."))
    return form, matches


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to TOWNHALL_PHOTOS_PER_REPORT photos, each cleaned by cases.photos."""

    widget = MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/heic"})

    def clean(self, data: Any, initial: Any = None) -> list[CleanPhoto]:
        files: Sequence[UploadedFile] = [
            f for f in (data if isinstance(data, list | tuple) else [data]) if f
        ]
        limit = settings.TOWNHALL_PHOTOS_PER_REPORT
        if len(files) > limit:
            raise forms.ValidationError(
                _("Add at most %(limit)s photos."), params={"limit": limit}, code="too_many"
            )
        cleaned: list[CleanPhoto] = []
        errors: list[str] = []
        accepted: list[tuple[str, CleanPhoto]] = []
        for upload in files:
            if upload.size is not None and upload.size > settings.TOWNHALL_PHOTO_MAX_BYTES:
                errors.append(
                    _("%(name)s is larger than %(mb)s MB.")
                    % {"name": upload.name, "mb": settings.TOWNHALL_PHOTO_MAX_BYTES // 2**20}
                )
                continue
            try:
                cleaned.append(photo_clean(upload.read(), filename=upload.name or ""))
            except InvalidPhoto as exc:
                errors.append(str(exc))
            else:
                accepted.append((upload.name or "", cleaned[-1]))
        # the good ones with their names, kept for the resident if the form fails
        self.accepted = accepted
        if errors:
            raise forms.ValidationError(errors)
        return cleaned


class KeptPhotosField(forms.Field):
    """Tokens of photos kept from an earlier try of the same form (intake/staging.py)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        tokens = value if isinstance(value, list | tuple) else [value]
        return [str(t) for t in tokens if t and len(str(t)) < 2000][:20]


class ReportForm(forms.Form):
    """The details of a report: the service's own questions, a description, photos, contact."""

    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    long = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    address = forms.CharField(required=False, max_length=300, widget=forms.HiddenInput)
    address_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    description = forms.CharField(
        label=_("Describe the problem"),
        help_text=_("What is wrong, and anything that helps the crew find it."),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": _("Enter a description of the problem"),
            "max_length": _("The description must be 4,000 characters or fewer"),
        },
    )
    photos = PhotosField(
        label=_("Photos (optional)"),
        help_text=_(
            "Up to 5 photos, JPEG, PNG or HEIC, up to 10 MB each. We remove the hidden "
            "details cameras store in photos before keeping them."
        ),
        required=False,
    )
    kept_photos = KeptPhotosField(required=False)
    name = forms.CharField(
        label=_("Your name (optional)"),
        max_length=200,
        required=False,
        error_messages={"max_length": _("Your name must be 200 characters or fewer")},
    )
    email = forms.EmailField(
        label=_("Email address (optional)"),
        help_text=_("We will send your reference and tell you when it is fixed."),
        required=False,
        error_messages={"invalid": _("Enter an email address like name@example.com.")},
    )
    phone = forms.CharField(
        label=_("Mobile phone (optional)"),
        help_text=_("For text message updates instead of email."),
        max_length=40,
        required=False,
        error_messages={
            "max_length": _("Enter a phone number like 617 555 0142 or +1 617 555 0142.")
        },
    )

    def __init__(
        self, *args: Any, specs: Sequence[AttributeSpec] = (), needs_location: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        worded = [s.in_language() for s in specs]  # the active language, where translated
        self.specs = [s for s in worded if s.variable]
        self.notices = [s.description for s in worded if not s.variable]
        self.needs_location = needs_location
        for spec in self.specs:
            self.fields[f"attribute_{spec.code}"] = _worded_errors(attribute_form_field(spec))

    @property
    def question_fields(self) -> list[forms.BoundField]:
        return [self[f"attribute_{spec.code}"] for spec in self.specs]

    @property
    def hidden_location(self) -> list[forms.BoundField]:
        return [self[name] for name in ("lat", "long", "address", "address_id")]

    def clean_phone(self) -> str:
        raw: str = self.cleaned_data.get("phone", "").strip()
        if not raw:
            return ""
        try:
            return phone_normalise(raw, region=settings.TOWNHALL_PHONE_REGION)
        except ValidationFailed:
            raise forms.ValidationError(
                _("Enter a phone number like 617 555 0142 or +1 617 555 0142."), code="invalid"
            ) from None

    def _photos_combined(self, data: dict[str, Any]) -> None:
        """Photos kept from the last try first, then the new ones; the limit covers both."""
        kept: list[CleanPhoto] = []
        self.kept_tokens: list[str] = []
        for token in data.get("kept_photos") or []:
            try:
                kept.append(photo_unstage(token))
            except StagedPhotoGone:
                self.add_error(
                    "photos",
                    _("A photo you added earlier is no longer available. Choose it again."),
                )
                continue
            self.kept_tokens.append(token)
        if "photos" not in data:  # the new files had a problem: reported already
            return
        limit = settings.TOWNHALL_PHOTOS_PER_REPORT
        if len(kept) + len(data["photos"]) > limit:
            self.add_error(
                "photos",
                _("Add at most %(limit)s photos, counting the ones you added before.")
                % {"limit": limit},
            )
            return
        data["photos"] = kept + data["photos"]

    def photos_to_keep(self) -> list[tuple[str, CleanPhoto | None]]:
        """After a failed try: (token, None) for photos kept before, (filename, photo) for
        new uploads that passed their checks and should be kept for the next try."""
        out: list[tuple[str, CleanPhoto | None]] = [(t, None) for t in self.kept_tokens]
        out.extend(getattr(self.fields["photos"], "accepted", []))
        return out

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self._photos_combined(data)
        lat, long = data.get("lat"), data.get("long")
        if (lat is None) != (long is None):
            data["lat"] = data["long"] = None
        if self.needs_location and data.get("lat") is None and not data.get("address"):
            photos = data.get("photos") or []
            if not any(p.lat is not None for p in photos):
                self.add_error(
                    None,
                    _(
                        "Tell us where the problem is: choose a place, or add a photo taken "
                        "there with its location."
                    ),
                )
        return data

    def answers(self) -> dict[str, object]:
        return form_answers(self, self.specs)


def _worded_errors(field: forms.Field) -> forms.Field:
    """Give a service's question errors that name the question and say what to do."""
    question = {"question": field.label}
    choosing = isinstance(field, forms.ChoiceField)
    field.error_messages["required"] = (
        _("Select an answer to “%(question)s”") if choosing else _("Answer “%(question)s”")
    ) % question
    # These two are formatted again with the value (a "%" in a question stays a "%").
    field.error_messages["invalid_choice"] = (
        _("Select one of the answers given for “%(question)s”") % question
    ).replace("%", "%%")
    if isinstance(field, forms.CharField):
        field.error_messages["max_length"] = (
            _("Your answer to “%(question)s” must be %(limit)s characters or fewer")
            % {**question, "limit": f"{field.max_length:,}"}
        ).replace("%", "%%")
    return field


class FollowForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        help_text=_("We will email you when this request changes."),
        error_messages={
            "invalid": _("Enter an email address like name@example.com."),
            "required": _("Enter your email address."),
        },
    )


class MeTooForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address (optional)"),
        help_text=_("Leave it empty to add your voice without updates."),
        required=False,
        error_messages={"invalid": _("Enter an email address like name@example.com.")},
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("What is still wrong?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Tell us what is still wrong.")},
    )
