"""The member of staff's own sign-in: set up the authenticator, backup codes, verify.

* ``two_step_view`` sets up (or turns off) the authenticator app: a QR code (an inline SVG
  drawn here with segno, nothing loaded from elsewhere) and the key to type. Turning it on
  shows ten backup codes once; each works once in place of a code. New backup codes can
  be made (the old ones stop working) with a code from the app.
* ``verify_view`` asks for the code after a single sign-on when the council does not let
  the provider stand in for our second step (TOWNHALL_SSO_SKIPS_SECOND_STEP off).
"""

from __future__ import annotations

from base64 import b32encode
from typing import Any

import django_otp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from townhall.console.forms import TwoStepForm, VerifyForm
from townhall.console.queues import QUEUES
from townhall.console.selectors import authenticator_active, backup_codes_left
from townhall.console.services import (
    authenticator_confirm,
    authenticator_pending,
    authenticator_remove,
    backup_codes_new,
)
from townhall.console.twostep import (
    needs_second_step,
    second_step_match,
    second_step_policy,
    second_step_required,
)
from townhall.console.views.common import staff_required
from townhall.core.security import SecurityEventKind, security_event


def _key_groups(key: str) -> str:
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _qr_svg(url: str) -> str:
    """The otpauth:// URL as an inline SVG QR code (no image request, no CDN)."""
    svg = segno.make(url, error="m").svg_inline(
        scale=4, dark="#0b0c0c", light="#ffffff", title=_("QR code of the key")
    )
    return mark_safe(svg)  # noqa: S308 - drawn by segno from our own data


def _show_codes(request: HttpRequest, codes: list[str]) -> HttpResponse:
    response = render(
        request,
        "console/backup_codes.html",
        {"queues": QUEUES, "codes": codes},
    )
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def two_step_view(request: HttpRequest) -> HttpResponse:
    """Set up (or turn off) the authenticator app that gives the sign-in code."""
    user: Any = request.user
    form = TwoStepForm(request.POST or None)
    active = authenticator_active(user)
    if active is not None:
        if request.method == "POST" and form.is_valid():
            wants_codes = request.POST.get("action") == "backup-codes"
            if active.verify_token(form.cleaned_data["code"]):
                if wants_codes:
                    return _show_codes(request, backup_codes_new(user))
                if second_step_required(user):
                    form.add_error(
                        "code", _("The council requires a sign-in code of you: it stays on.")
                    )
                else:
                    authenticator_remove(user=user)
                    messages.success(request, _("The authenticator is turned off."))
                    return redirect("console:two-step")
            else:
                security_event(
                    SecurityEventKind.SECOND_STEP_FAILED, request=request, subject=f"user:{user.pk}"
                )
                form.add_error(
                    "code", _("That code is not right. Wait for the next one and try again.")
                )
        status = 400 if form.errors else 200
        return render(
            request,
            "console/two_step.html",
            {
                "queues": QUEUES,
                "form": form,
                "active": True,
                "backup_left": backup_codes_left(user),
                "required": second_step_required(user),
            },
            status=status,
        )
    pending = authenticator_pending(user)
    if request.method == "POST" and form.is_valid():
        if pending.verify_token(form.cleaned_data["code"]):
            authenticator_confirm(device=pending)
            django_otp.login(request, pending)
            security_event(
                SecurityEventKind.SECOND_STEP_SET_UP, request=request, subject=f"user:{user.pk}"
            )
            messages.success(request, _("Done: from now on you sign in with a code too."))
            return _show_codes(request, backup_codes_new(user))
        security_event(
            SecurityEventKind.SECOND_STEP_FAILED,
            request=request,
            subject=f"user:{user.pk}",
            detail={"during": "set-up"},
        )
        form.add_error(
            "code", _("That code is not right. Check the key, wait for the next code, try again.")
        )
    return render(
        request,
        "console/two_step.html",
        {
            "queues": QUEUES,
            "form": form,
            "active": False,
            "key": _key_groups(b32encode(pending.bin_key).decode()),
            "url": pending.config_url,
            "qr": _qr_svg(pending.config_url),
            "required": second_step_required(user),
            "everyone": second_step_policy() == "all",
        },
        status=400 if form.errors else 200,
    )


two_step_view.sets_up_two_step = True  # type: ignore[attr-defined]
two_step_view = staff_required(two_step_view)


@require_http_methods(["GET", "POST"])
def verify_view(request: HttpRequest) -> HttpResponse:
    """The code (or a backup code) after a single sign-on, when the council asks for it."""
    user: Any = request.user
    if not (user.is_authenticated and user.is_staff):
        return redirect("admin:login")
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        nxt = ""
    if not needs_second_step(request):
        return redirect(nxt or "console:home")
    if request.method == "POST" and request.POST.get("action") == "cancel":
        logout(request)
        return redirect("admin:login")
    form = VerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = second_step_match(request, user, form.cleaned_data["code"])
        if device is not None:
            django_otp.login(request, device)
            return redirect(nxt or "console:home")
        form.add_error("code", _("That code is not right. Wait for the next one and try again."))
    return render(
        request,
        "console/verify.html",
        {"form": form, "next": nxt, "hide_menu": True, "brand_name": settings.OTP_TOTP_ISSUER},
        status=400 if form.errors else 200,
    )
