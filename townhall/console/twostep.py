"""Staff sign-in with a second step: a code from an authenticator app, or a backup code.

Staff who set up an authenticator (a django-otp TOTP device) must give its code, or one of
their single-use backup codes (a django-otp static device), at every sign-in; a session
signed in without it opens neither the console nor the admin. Who must set one up is
TOWNHALL_STAFF_REQUIRE_2FA: "admins" (council administrators and superusers; the default
in production), "all" staff, or "none". Those who must are sent to set it up before
anything else, in the console and in the admin alike.

A sign-in through the council's single sign-on skips our second step only when
TOWNHALL_SSO_SKIPS_SECOND_STEP is on; otherwise staff with an authenticator give its code
on the console's "verify" page after the provider sends them back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user, user_has_device
from django_otp.admin import OTPAdminAuthenticationForm

from townhall.core.ratelimit import RateLimited, rate_limit_hit
from townhall.core.security import SecurityEventKind, security_event
from townhall.people.roles import StaffRole

SSO_SESSION_KEY = "townhall_sso"
_ADMIN_CACHE = "_townhall_council_admin"


def has_authenticator(user: Any) -> bool:
    """Has `user` a confirmed authenticator app? (Backup codes come and go with it, so one
    query answers, on every console request.)"""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return bool(TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists())


def second_step_policy() -> str:
    value = settings.TOWNHALL_STAFF_REQUIRE_2FA
    if value is True:  # the older yes/no form of the setting
        return "all"
    if value is False or not value:
        return "none"
    return str(value)


def second_step_required(user: Any) -> bool:
    """Must `user` sign in with a second step, by the council's policy?"""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_staff", False):
        return False
    policy = second_step_policy()
    if policy == "all":
        return True
    if policy == "admins":
        if user.is_superuser:
            return True
        cached = getattr(user, _ADMIN_CACHE, None)
        if cached is None:  # once per request: the user object is per request
            cached = user.groups.filter(name=StaffRole.COUNCIL_ADMIN.value).exists()
            setattr(user, _ADMIN_CACHE, cached)
        return bool(cached)
    return False


def sso_skips(request: HttpRequest) -> bool:
    return bool(request.session.get(SSO_SESSION_KEY)) and settings.TOWNHALL_SSO_SKIPS_SECOND_STEP


def needs_second_step(request: HttpRequest) -> bool:
    """True if the signed-in user has an authenticator but this session has not used it."""
    user: Any = request.user
    if not user.is_authenticated:
        return False
    if sso_skips(request):  # the council trusts its provider's own second factor
        return False
    verified = getattr(user, "is_verified", None)
    if verified is not None and verified():
        return False
    return has_authenticator(user)


def must_set_up(request: HttpRequest) -> bool:
    """True if the council requires an authenticator of this member of staff, who has none."""
    user: Any = request.user
    if sso_skips(request):
        return False
    return second_step_required(user) and not has_authenticator(user)


def second_step_match(request: HttpRequest | None, user: Any, token: str) -> Any:
    """The device of `user` that accepts `token` (each backup code works once), or None.

    A wrong code is a SECOND_STEP_FAILED security event (without the code).
    """
    token = "".join(str(token or "").split()).lower()  # backup codes are shown in lower case
    if token:
        for device in devices_for_user(user, confirmed=True):
            if device.verify_token(token):
                return device
    security_event(
        SecurityEventKind.SECOND_STEP_FAILED, request=request, user=user, subject=f"user:{user.pk}"
    )
    return None


class StaffAuthenticationForm(OTPAdminAuthenticationForm):  # type: ignore[misc]
    """The admin's sign-in form; asks for the code only from staff who have an authenticator.

    The code may come from the authenticator app or be one of the backup codes.
    """

    def clean(self) -> dict[str, Any]:
        self.cleaned_data = AdminAuthenticationForm.clean(self)
        user = self.get_user()
        if user is not None and user_has_device(user, confirmed=True):
            token = self.cleaned_data.get("otp_token") or ""
            if not token:
                raise forms.ValidationError(
                    _("Enter the code from your authenticator app, or a backup code."),
                    code="token_required",
                )
            device = second_step_match(self.request, user, token)
            if device is None:
                raise forms.ValidationError(
                    _("That code is not right. Wait for the next one and try again."),
                    code="invalid_token",
                )
            user.otp_device = device  # django_otp.login() marks the session at sign-in
        return self.cleaned_data


class StaffAdminSite(admin.AdminSite):
    login_form = StaffAuthenticationForm
    login_template = "console/staff_login.html"

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        from townhall.console.signin import SESSION_ENDED, too_many_sign_ins

        if request.method == "POST":
            # Per client, on top of django-axes' lock per account and address: guesses
            # spread over many accounts from one address are slowed too.
            try:
                rate_limit_hit(request, "staff_sign_in")
            except RateLimited as exc:
                return too_many_sign_ins(request, exc)

        context = {
            "single_sign_on": settings.TOWNHALL_OIDC,
            "session_ended": request.session.pop(SESSION_ENDED, False),
            "hide_menu": True,  # the console's look (console/base.html), without its menu
            **(extra_context or {}),
        }
        return super().login(request, extra_context=context)

    def has_permission(self, request: HttpRequest) -> bool:
        return (
            super().has_permission(request)
            and not needs_second_step(request)
            and not must_set_up(request)
        )

    def citizens_visible_to(self, user: Any) -> Any:
        """The residents `user` may see in the admin: those the console would show them
        (people.admin asks; None means everyone)."""
        from townhall.cases.access import access_citizens, access_department_ids

        if access_department_ids(user) is None:
            return None
        return access_citizens(user)

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Any:
        """Staff who still owe the second step are sent to give or set it up, not refused."""
        inner = super().admin_view(view, cacheable)
        if getattr(view, "__name__", "") == "logout":
            return inner

        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user: Any = request.user
            if user.is_authenticated and user.is_active and user.is_staff:
                if needs_second_step(request) and request.session.get(SSO_SESSION_KEY):
                    return redirect("console:verify")
                if not needs_second_step(request) and must_set_up(request):
                    return redirect("console:two-step")
            response: HttpResponse = inner(request, *args, **kwargs)
            return response

        wrapped.__name__ = getattr(inner, "__name__", "admin_view")
        wrapped.__dict__.update(getattr(inner, "__dict__", {}))
        return wrapped
