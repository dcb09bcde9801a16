"""Optional resident accounts: sign in with a link sent by e-mail (no password), see
every request made on any channel, and say once how to be reached and in which language.

The link carries the address signed with the secret key and a nonce; it works once,
for TOWNHALL_SIGN_IN_LINK_MINUTES, in every process (people.SignInLink keeps a hash of it
and when it was used). Opening it shows a button (mail scanners that follow links do not
sign anyone in); the POST signs in. Asking for a link always answers the same way, so the
form tells nobody which addresses we know.

The account shows the requests that came through a contact the resident has proven (see
docs/security/identity.md); a phone is proven with a one-time code sent by SMS.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from townhall.cases.selectors import case_list_for_citizen
from townhall.cases.tracking import track_path
from townhall.core.errors import ValidationFailed
from townhall.core.ratelimit import RateLimited, rate_limit_hit
from townhall.core.security import SecurityEventKind, security_event
from townhall.experience.selectors import surveys_open_for
from townhall.intake.privacy import resident_erase, resident_export_file
from townhall.notify.services import notification_phone_code, sign_in_link_queue
from townhall.notify.subscriptions import subscriptions_of
from townhall.people.models import Channel, Citizen, ContactKind
from townhall.people.selectors import cases_proven_for, citizen_verified_contacts
from townhall.people.services import (
    PhoneProofResult,
    citizen_account_for_email,
    citizen_profile_update,
    phone_proof_check,
    phone_proof_start,
    sign_in_link_issue,
    sign_in_link_redeem,
)
from townhall.portal.context import brand
from townhall.portal.throttle import portal_rate_limited, posted_email

CONTACT_CHANNELS = [Channel.EMAIL, Channel.SMS, Channel.PHONE]


class SignInForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Email address"),
        help_text=gettext_lazy(
            "We will email you a link to sign in. It works once, for a short time."
        ),
        error_messages={
            "required": gettext_lazy("Enter your email address."),
            "invalid": gettext_lazy("Enter an email address like name@example.com."),
        },
    )


class ProfileForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=200, required=False)
    language = forms.ChoiceField(label=gettext_lazy("Language for our messages"), choices=())
    channel = forms.ChoiceField(
        label=gettext_lazy("How we contact you"),
        choices=[(c.value, c.label) for c in CONTACT_CHANNELS],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)
        language.choices = list(settings.LANGUAGES)


def sign_in_token(email: str) -> str:
    """A single-use sign-in token for `email` (recorded in the database)."""
    return sign_in_link_issue(email=email, minutes=settings.TOWNHALL_SIGN_IN_LINK_MINUTES)


def sign_in_token_use(token: str) -> str | None:
    """Return the e-mail a fresh, unused token proves, and mark it used; else None."""
    return sign_in_link_redeem(token=token)


def _citizen(request: HttpRequest) -> Citizen | None:
    if not request.user.is_authenticated:
        return None
    return Citizen.objects.filter(user_id=request.user.pk).first()


def signed_in_citizen(request: HttpRequest) -> Citizen | None:
    """The resident signed in through a sign-in link (their address is proven), or None."""
    return _citizen(request)


@require_http_methods(["GET", "POST"])
@portal_rate_limited("sign_in", targets=posted_email)  # per client and per address asked for
def sign_in_view(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            email = form.cleaned_data["email"]
            security_event(SecurityEventKind.SIGN_IN_LINK_SENT, request=request)
            # Through the outbox; the link itself is made when the e-mail is sent, so no
            # working link is ever stored (notify.secret_links).
            sign_in_link_queue(
                email=email, language=get_language(), council=brand(request)["brand"]["name"]
            )
            return render(request, "portal/sign_in_sent.html", {"email": email})
        return render(request, "portal/sign_in.html", {"form": form}, status=400)
    return render(request, "portal/sign_in.html", {"form": form})


@require_http_methods(["GET", "POST"])
def sign_in_link_view(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        return render(request, "portal/sign_in_link.html", {"token": token})
    email = sign_in_token_use(token)
    if email is None:
        security_event(SecurityEventKind.SIGN_IN_LINK_REFUSED, request=request)
        return render(request, "portal/sign_in_link.html", {"invalid": True}, status=400)
    try:
        citizen = citizen_account_for_email(email=email, language=get_language())
    except ValidationFailed:
        security_event(SecurityEventKind.SIGN_IN_LINK_REFUSED, request=request)
        return render(request, "portal/sign_in_link.html", {"invalid": True}, status=400)
    assert citizen.user is not None
    security_event(
        SecurityEventKind.SIGN_IN_LINK_USED,
        request=request,
        user=citizen.user,
        subject=f"citizen:{citizen.pk}",
    )
    login(request, citizen.user, backend="django.contrib.auth.backends.ModelBackend")
    response = redirect("portal:account")
    _remember_language(response, citizen.preferred_language)
    return response


def _remember_language(response: HttpResponse, language: str) -> None:
    if language in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax", max_age=365 * 86400
        )


def account_view(request: HttpRequest) -> HttpResponse:
    citizen = _citizen(request)
    if citizen is None:
        return redirect("portal:sign-in")
    listed = case_list_for_citizen(citizen_id=citizen.pk)
    # A report shows here only if it came through a contact this resident has proven:
    # contacts typed into someone else's report prove nothing about who sent it.
    proven = cases_proven_for(
        citizen=citizen, case_ids=[case.pk for case, reported in listed if reported]
    )
    rows = [
        (case, reported, track_path(case) if reported else None)
        for case, reported in listed
        if not reported or case.pk in proven
    ]
    return render(
        request,
        "portal/account.html",
        {
            "citizen": citizen,
            "rows": rows,
            "phones": _phones(citizen),
            "subscriptions": subscriptions_of(citizen),
            # Surveys of the same reports the table shows (their proven contacts only).
            "surveys": surveys_open_for(citizen_id=citizen.pk, case_ids=sorted(proven)),
        },
    )


def _phones(citizen: Citizen) -> list[str]:
    return [p.value for p in citizen_verified_contacts(citizen) if p.kind == ContactKind.PHONE]


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=gettext_lazy("Mobile phone number"),
        max_length=40,
        help_text=gettext_lazy("We will text you a code to prove the number is yours."),
        error_messages={"required": gettext_lazy("Enter a mobile phone number.")},
    )


class PhoneCodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code from the text"),
        max_length=12,
        error_messages={"required": gettext_lazy("Enter the code we texted you.")},
    )


@require_http_methods(["GET", "POST"])
@portal_rate_limited("phone_code", targets=lambda request: [request.POST.get("phone", "")])
def phone_view(request: HttpRequest) -> HttpResponse:
    """Add a phone number: text it a one-time code (through the outbox)."""
    citizen = _citizen(request)
    if citizen is None:
        return redirect("portal:sign-in")
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            proof, code = phone_proof_start(citizen=citizen, phone=form.cleaned_data["phone"])
        except ValidationFailed as exc:
            form.add_error("phone", str(exc.message))
        else:
            notification_phone_code(
                key=f"phone-proof:{proof.pk}",
                citizen=citizen,
                to=proof.value,
                code=code,
                council=brand(request)["brand"]["name"],
            )
            return redirect("portal:phone-confirm")
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/phone.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def phone_confirm_view(request: HttpRequest) -> HttpResponse:
    """Type the code texted to the new phone; a right code makes the phone proven."""
    citizen = _citizen(request)
    if citizen is None:
        return redirect("portal:sign-in")
    form = PhoneCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result, point = phone_proof_check(citizen=citizen, code=form.cleaned_data["code"])
        if result == PhoneProofResult.PROVEN and point is not None:
            security_event(
                SecurityEventKind.CONTACT_VERIFIED,
                request=request,
                subject=f"citizen:{citizen.pk}",
                detail={"kind": "phone", "contact_point": point.pk},
            )
            messages.success(request, _("Your phone number is confirmed."))
            return redirect("portal:account")
        if result == PhoneProofResult.WRONG:
            form.add_error("code", _("That code is not right. Check the text and try again."))
        else:
            form.add_error("code", _("That code no longer works. Ask for a new one."))
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/phone_confirm.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def profile_view(request: HttpRequest) -> HttpResponse:
    citizen = _citizen(request)
    if citizen is None:
        return redirect("portal:sign-in")
    initial = {
        "name": citizen.display_name,
        "language": citizen.preferred_language,
        "channel": citizen.preferred_channel,
    }
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            citizen_profile_update(
                citizen=citizen,
                display_name=form.cleaned_data["name"],
                preferred_language=form.cleaned_data["language"],
                preferred_channel=form.cleaned_data["channel"],
            )
            response: HttpResponse = HttpResponseRedirect(reverse("portal:account"))
            _remember_language(response, citizen.preferred_language)
            with translation.override(citizen.preferred_language):
                messages.success(request, _("Your details are saved."))
            return response
        return render(request, "portal/profile.html", {"form": form}, status=400)
    return render(request, "portal/profile.html", {"form": form})


@require_POST
def data_export_view(request: HttpRequest) -> HttpResponseBase:
    """The signed-in resident's own data as one ZIP: a POST, so no URL carries it."""
    citizen = _citizen(request)
    if citizen is None:
        return redirect("portal:sign-in")
    try:
        # A ZIP of every photo is heavy to build: a few downloads an hour are plenty.
        rate_limit_hit(request, "export", targets=[f"citizen:{citizen.pk}"])
    except RateLimited as exc:
        refused = render(request, "portal/too_many_exports.html", status=429)
        refused["Retry-After"] = str(exc.retry_after)
        return refused
    handle = resident_export_file(citizen_id=citizen.pk, request=request, via="resident")
    response = FileResponse(
        handle, as_attachment=True, filename="my-data.zip", content_type="application/zip"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
def close_account_view(request: HttpRequest) -> HttpResponse:
    """Close the account: a confirmation page, then erasure of the resident's personal
    data (their requests stay, anonymous, for the council's statistics) and sign-out."""
    citizen = _citizen(request)
    if citizen is None:
        return redirect("portal:sign-in")
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            return render(
                request,
                "portal/close_account.html",
                {"citizen": citizen, "missing": True},
                status=400,
            )
        resident_erase(citizen_id=citizen.pk, request=request, via="resident")
        logout(request)
        response = redirect("portal:home")
        messages.success(request, _("Your account is closed and your personal details erased."))
        return response
    return render(request, "portal/close_account.html", {"citizen": citizen})


@require_POST
def sign_out_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("portal:home")
