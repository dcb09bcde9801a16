"""Staff sign-in with an optional second step: a time-based code from an authenticator app.

Staff who set up an authenticator (a django-otp TOTP device) must give its code at every
sign-in, and a session signed in without it opens neither the console nor the admin.
Staff who have not set one up sign in with their password alone, unless the council sets
TOWNHALL_STAFF_REQUIRE_2FA, which sends them to set it up before anything else.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest
from django_otp import devices_for_user, user_has_device
from django_otp.admin import OTPAdminAuthenticationForm


def needs_second_step(request: HttpRequest) -> bool:
    """True if the signed-in user has an authenticator but this session has not used it."""
    user: Any = request.user
    if not user.is_authenticated:
        return False
    if request.session.get("townhall_sso"):  # the council's provider did the second factor
        return False
    verified = getattr(user, "is_verified", None)
    if verified is not None and verified():
        return False
    return bool(user_has_device(user, confirmed=True))


def must_set_up(request: HttpRequest) -> bool:
    """True if the council requires an authenticator and this member of staff has none."""
    user: Any = request.user
    return bool(
        settings.TOWNHALL_STAFF_REQUIRE_2FA
        and user.is_authenticated
        and not user_has_device(user, confirmed=True)
    )


class StaffAuthenticationForm(OTPAdminAuthenticationForm):  # type: ignore[misc]
    """The admin's sign-in form; asks for the code only from staff who have an authenticator."""

    def clean(self) -> dict[str, Any]:
        self.cleaned_data = AdminAuthenticationForm.clean(self)
        user = self.get_user()
        if user is not None and user_has_device(user, confirmed=True):
            if not self.cleaned_data.get("otp_device"):
                # One authenticator per person here: use it, so nobody has to pick it.
                devices = list(devices_for_user(user, confirmed=True))
                if len(devices) == 1:
                    self.cleaned_data["otp_device"] = devices[0].persistent_id
            self.clean_otp(user)
        return self.cleaned_data


class StaffAdminSite(admin.AdminSite):
    login_form = StaffAuthenticationForm
    login_template = "console/staff_login.html"

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        context = {"single_sign_on": settings.TOWNHALL_OIDC, **(extra_context or {})}
        return super().login(request, extra_context=context)

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and not needs_second_step(request)
