"""Optional resident accounts: sign in with a link sent by e-mail (no password), see
every request made on any channel, and say once how to be reached and in which language.

The link carries the address signed with the secret key and a nonce; it works once,
for TOWNHALL_SIGN_IN_LINK_MINUTES. Opening it shows a button (mail scanners that follow
links do not sign anyone in); the POST signs in. Asking for a link always answers the
same way, so the form tells nobody which addresses we know.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.core import signing
from django.core.cache import cache
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from townhall.cases.selectors import case_list_for_citizen
from townhall.cases.tracking import track_path
from townhall.core.errors import ValidationFailed
from townhall.notify.links import public_url
from townhall.people.models import Channel, Citizen
from townhall.people.services import citizen_account_for_email, citizen_profile_update
from townhall.portal.throttle import portal_rate_limited, posted_email

_SALT = "townhall.portal.sign-in"
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
    return signing.TimestampSigner(salt=_SALT).sign_object(
        {"e": email.strip(), "n": secrets.token_urlsafe(8)}
    )


def sign_in_token_use(token: str) -> str | None:
    """Return the e-mail a fresh, unused token proves, and mark it used; else None."""
    max_age = settings.TOWNHALL_SIGN_IN_LINK_MINUTES * 60
    try:
        payload = signing.TimestampSigner(salt=_SALT).unsign_object(token, max_age=max_age)
    except (signing.BadSignature, signing.SignatureExpired, ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("e"), str):
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    if not cache.add(f"portal:sign-in-used:{digest}", 1, timeout=max_age + 60):
        return None  # used already
    return str(payload["e"])


def _citizen(request: HttpRequest) -> Citizen | None:
    if not request.user.is_authenticated:
        return None
    return Citizen.objects.filter(user_id=request.user.pk).first()


@require_http_methods(["GET", "POST"])
@portal_rate_limited("sign_in", targets=posted_email)  # per client and per address asked for
def sign_in_view(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            email = form.cleaned_data["email"]
            link = public_url(reverse("portal:sign-in-link", args=[sign_in_token(email)]))
            with translation.override(get_language()):
                send_mail(
                    subject=_("Your sign-in link"),
                    message=_(
                        "Use this link to sign in and see your requests. It works once, "
                        "for %(minutes)s minutes:\n\n%(link)s\n\nIf you did not ask "
                        "for it, ignore this email: nobody can sign in without the link."
                    )
                    % {"minutes": settings.TOWNHALL_SIGN_IN_LINK_MINUTES, "link": link},
                    from_email=None,
                    recipient_list=[email],
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
        return render(request, "portal/sign_in_link.html", {"invalid": True}, status=400)
    try:
        citizen = citizen_account_for_email(email=email, language=get_language())
    except ValidationFailed:
        return render(request, "portal/sign_in_link.html", {"invalid": True}, status=400)
    assert citizen.user is not None
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
    rows = [
        (case, reported, track_path(case) if reported else None)
        for case, reported in case_list_for_citizen(citizen_id=citizen.pk)
    ]
    return render(request, "portal/account.html", {"citizen": citizen, "rows": rows})


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
def sign_out_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("portal:home")
