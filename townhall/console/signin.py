"""Staff sign-in defences: throttling and lockout, and how long a staff session lives.

* Repeated failed sign-ins lock out one account *from one address* (django-axes, by the
  combination of username and IP address, so an attacker cannot lock everyone out by
  guessing at every account from one place, nor keep guessing at one account). The
  lock lifts by itself after TOWNHALL_STAFF_LOCKOUT_MINUTES, or at once when an
  administrator deletes the account's "access attempts" in the admin (or runs
  ``python manage.py axes_reset_username NAME``).
* Every failed sign-in and every lockout is a security event (no password, no username:
  the account's id when there is one).
* A staff session ends after TOWNHALL_STAFF_SESSION_IDLE_MINUTES without a request and in
  any case TOWNHALL_STAFF_SESSION_MAX_HOURS after sign-in. Residents' sessions are not
  touched.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from townhall.core.ratelimit import RateLimited, too_many
from townhall.core.security import SecurityEventKind, security_event

SESSION_STARTED = "townhall_staff_started"
SESSION_SEEN = "townhall_staff_seen"
SESSION_ENDED = "townhall_staff_session_ended"  # shown once on the sign-in page


class StaffAxesBackend(AxesStandaloneBackend):  # type: ignore[misc]
    """django-axes' lockout check, for sign-ins made by a person through a web request.

    Authentication without a request (management commands, the test client's
    ``login()``) has no client address to throttle by, so it is not counted here.
    """

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> Any:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


def _account_id(username: str) -> int | None:
    if not username:
        return None
    user_model = get_user_model()
    found = (
        user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username})
        .values_list("pk", flat=True)
        .first()
    )
    return int(found) if found is not None else None


def on_sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """django.contrib.auth's user_login_failed: one security event, without the username."""
    if request is None or "username" not in credentials:
        return  # single sign-on records its own refusals, with the reason (console/sso.py)
    account = _account_id(str(credentials.get("username") or ""))
    security_event(
        SecurityEventKind.STAFF_SIGN_IN_FAILED,
        request=request,
        subject=f"user:{account}" if account else "unknown account",
        detail={"path": request.path[:100]},
    )


def on_locked_out(
    sender: Any, request: HttpRequest | None = None, username: str = "", **kwargs: Any
) -> None:
    """django-axes' user_locked_out."""
    account = _account_id(str(username or ""))
    security_event(
        SecurityEventKind.STAFF_LOCKED_OUT,
        request=request,
        subject=f"user:{account}" if account else "unknown account",
        detail={"minutes": settings.TOWNHALL_STAFF_LOCKOUT_MINUTES},
    )


def locked_out_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """The page a locked-out sign-in gets (django-axes' AXES_LOCKOUT_CALLABLE): 429."""
    minutes = settings.TOWNHALL_STAFF_LOCKOUT_MINUTES
    response = render(
        request,
        "console/locked_out.html",
        {"minutes": minutes, "attempts": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
    response["Retry-After"] = str(int(minutes * 60))
    return response


class StaffSessionLifetimeMiddleware:
    """End staff sessions that were idle too long or have lived too long."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user: Any = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            self._check(request)
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> None:
        now = time.time()
        session = request.session
        idle = settings.TOWNHALL_STAFF_SESSION_IDLE_MINUTES * 60
        lifetime = settings.TOWNHALL_STAFF_SESSION_MAX_HOURS * 3600
        started = session.get(SESSION_STARTED)
        seen = session.get(SESSION_SEEN)
        if started is None or seen is None:
            session[SESSION_STARTED] = started = started if started is not None else now
            session[SESSION_SEEN] = seen = now
        expired = (idle and now - float(seen) > idle) or (
            lifetime and now - float(started) > lifetime
        )
        if expired:
            logout(request)  # a new, empty session: the next page asks to sign in again
            request.session[SESSION_ENDED] = True
            return
        if now - float(seen) >= 30:  # at most one session write per half-minute
            session[SESSION_SEEN] = now


def on_signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """user_logged_in: a staff session's clock starts at sign-in."""
    if request is None or not getattr(user, "is_staff", False) or not hasattr(request, "session"):
        return
    now = time.time()
    request.session[SESSION_STARTED] = now
    request.session[SESSION_SEEN] = now
    request.session.pop(SESSION_ENDED, None)


def too_many_sign_ins(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    """Too many sign-in attempts from this client (the per-client limit "staff_sign_in")."""
    minutes = max(1, math.ceil(exc.retry_after / 60))
    return too_many(render(request, "console/too_many_sign_ins.html", {"minutes": minutes}), exc)
