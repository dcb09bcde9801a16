"""What the proven owner of a report does on its private page: add an update, withdraw it.

Who may (decided and tested, docs/security/identity.md): the report's reporter, signed in,
whose account lists the report (``cases.resident.case_owned_by_resident``). Anyone else,
including whoever holds the private link without signing in as that resident, gets the
same 404 as for a request that does not exist: a forwarded link must not let a stranger
speak for the resident or close their request. Posts need the CSRF token and count
against the ``resident_case`` rate limit (per client and per account).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from townhall.cases.errors import InvalidCaseInput
from townhall.cases.models import Case
from townhall.cases.resident import (
    case_owned_by_resident,
    case_update_by_resident,
    case_withdraw_by_resident,
)
from townhall.experience.services_frustration import journey_tone_record
from townhall.people.models import Citizen
from townhall.portal.accounts import signed_in_citizen
from townhall.portal.case_views import case_for_token_or_404, private_context
from townhall.portal.owner_forms import ResidentUpdateForm, WithdrawForm
from townhall.portal.throttle import portal_rate_limited


def _account(request: HttpRequest) -> Iterable[str]:
    return [f"user:{request.user.pk}"] if request.user.is_authenticated else []


def _owned(request: HttpRequest, token: str) -> tuple[Case, Citizen]:
    case = case_for_token_or_404(token)
    citizen = signed_in_citizen(request)
    if citizen is None or not case_owned_by_resident(case=case, citizen=citizen):
        raise Http404(_("We could not find that request."))
    return case, citizen


def _again(
    request: HttpRequest,
    case: Case,
    token: str,
    *,
    update_form: ResidentUpdateForm | None = None,
    withdraw_form: WithdrawForm | None = None,
) -> HttpResponse:
    context = private_context(request, case, token)
    if update_form is not None:
        context["update_form"] = update_form
    if withdraw_form is not None:
        context["withdraw_form"] = withdraw_form
    return render(request, "portal/request.html", context, status=400)


def _errors_onto(
    form: ResidentUpdateForm | WithdrawForm, field: str, exc: InvalidCaseInput
) -> None:
    for problem in (exc.details or {}).get(field, [str(exc)]):
        form.add_error(field, problem)


@require_POST
@portal_rate_limited("resident_case", targets=_account)
def case_update_view(request: HttpRequest, token: str) -> HttpResponse:
    """The owner adds an update to their open request."""
    case, citizen = _owned(request, token)
    form = ResidentUpdateForm(request.POST)
    if form.is_valid():
        try:
            case_update_by_resident(case=case, citizen=citizen, text=form.cleaned_data["text"])
        except InvalidCaseInput as exc:
            _errors_onto(form, "text", exc)
        else:
            journey_tone_record(  # the frustration index: the words are scored, not kept
                text=form.cleaned_data["text"],
                channel="web",
                case_id=case.pk,
                citizen_id=citizen.pk,
            )
            messages.success(
                request,
                _("Thank you. We have added your update to request %(ref)s.")
                % {"ref": case.reference},
            )
            return redirect("portal:request", token=token)
    return _again(request, case, token, update_form=form)


@require_POST
@portal_rate_limited("resident_case", targets=_account)
def case_withdraw_view(request: HttpRequest, token: str) -> HttpResponse:
    """The owner withdraws their open request: it is closed, the reason kept for staff."""
    case, citizen = _owned(request, token)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            case_withdraw_by_resident(
                case=case, citizen=citizen, reason=form.cleaned_data["reason"]
            )
        except InvalidCaseInput as exc:
            _errors_onto(form, "reason", exc)
        else:
            messages.success(
                request,
                _("You have withdrawn request %(ref)s. We have closed it.")
                % {"ref": case.reference},
            )
            return redirect("portal:request", token=token)
    return _again(request, case, token, withdraw_form=form)
