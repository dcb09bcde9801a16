"""What every console view shares: staff only, the case through `cases.access`, and the
way an action answers (redirect back to the case, or the page again with its errors)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from townhall.cases.access import Action, access_can, access_case_get, access_is_staff
from townhall.cases.errors import CaseNotFound
from townhall.cases.models import Case
from townhall.console.twostep import SSO_SESSION_KEY, must_set_up, needs_second_step
from townhall.core.errors import ValidationFailed

if TYPE_CHECKING:
    from townhall.core.users import StaffUser

View = Callable[..., Any]


def staff_of(request: HttpRequest) -> StaffUser:
    """The signed-in member of staff (the decorator has checked)."""
    return cast("StaffUser", request.user)


def staff_required(view: View) -> View:
    """Signed-in staff only: others go to the sign-in page; residents get 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not access_is_staff(request.user):
            raise PermissionDenied
        if needs_second_step(request):  # signed in without the authenticator they set up
            if request.session.get(SSO_SESSION_KEY):  # after single sign-on: ask for it now
                return redirect_to_login(request.get_full_path(), reverse("console:verify"))
            logout(request)
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if must_set_up(request) and not getattr(view, "sets_up_two_step", False):
            return redirect("console:two-step")
        response: HttpResponse = view(request, *args, **kwargs)
        return response

    return wrapped


def case_or_404(request: HttpRequest, case_id: int) -> Case:
    try:
        return access_case_get(request.user, case_id)
    except CaseNotFound:
        raise Http404 from None


def require(request: HttpRequest, action: Action, case: Case | None = None) -> None:
    if not access_can(request.user, action, case):
        raise PermissionDenied


def back_to_case(case: Case) -> HttpResponse:
    return redirect(reverse("console:case", args=[case.pk]) + "#actions")


def errors_onto(form: Any, exc: ValidationFailed, field: str) -> None:
    """A service's refusal as form errors: on the fields it names, else on `field`."""
    details = getattr(exc, "details", None) or {}
    if details:
        for key, problems in details.items():
            for problem in problems if isinstance(problems, list) else [problems]:
                form.add_error(field if key not in form.fields else key, str(problem))
    else:
        form.add_error(field, str(exc))
