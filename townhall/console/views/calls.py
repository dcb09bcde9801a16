"""The phone: find the caller first (tell us once), then a new case or a note on theirs.

The services offered are those of the councils the agent works for; a choice names one
service even when two councils share its code (console.selectors).
"""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from townhall.cases.access import Action, access_case_get, access_case_visible
from townhall.cases.errors import CaseNotFound
from townhall.cases.models import Case
from townhall.cases.selectors import case_list_for_citizen
from townhall.cases.services import case_note_add
from townhall.catalog.models import ServiceType
from townhall.catalog.selectors import attribute_specs_for
from townhall.console.forms import CallCaseForm, CallerSearchForm, CallUpdateForm
from townhall.console.queues import QUEUES
from townhall.console.selectors import (
    service_choices_for_staff,
    service_from_choice,
    staff_jurisdiction_ids,
)
from townhall.console.views.common import errors_onto, require, staff_of, staff_required
from townhall.core.errors import ValidationFailed
from townhall.core.security import SecurityEventKind, security_event
from townhall.core.web import safe_next
from townhall.intake.messages import Dedupe, Message, Place, Sender
from townhall.intake.services import intake_submit
from townhall.people.contacts import email_normalise, phone_normalise
from townhall.people.models import Channel
from townhall.people.selectors import citizen_by_contact


@require_http_methods(["GET", "POST"])
@staff_required
def call_view(request: HttpRequest) -> HttpResponse:
    """Log a call: find the caller first (tell us once), then a new case or an update."""
    require(request, Action.LOG_CALL)
    search = CallerSearchForm(request.GET or None)
    caller = None
    contact_kind, contact_value = "", ""
    if search.is_bound and search.is_valid():
        contact_kind, contact_value = _contact_of(search.cleaned_data["contact"])
        if not contact_kind:
            search.add_error(
                "contact", _("Enter a phone number like 617 555 0142 or an e-mail address.")
            )
        else:
            caller = citizen_by_contact(kind=contact_kind, value=contact_value)
            if caller is not None:
                security_event(
                    SecurityEventKind.RESIDENT_VIEWED,
                    request=request,
                    subject=f"citizen:{caller.pk}",
                    detail={"via": "console call"},
                )
    services = service_choices_for_staff(request.user)
    initial = {"phone": contact_value} if contact_kind == "phone" else {"email": contact_value}
    choice = request.POST.get("service", "")
    chosen = service_from_choice(choice, jurisdiction_ids=staff_jurisdiction_ids(request.user))
    specs = attribute_specs_for(service_type=chosen) if chosen is not None else []
    case_form = CallCaseForm(
        request.POST or None,
        services=services,
        specs=specs,
        initial=initial if contact_value else None,
    )
    asked = chosen is not None and request.POST.get("asked") == choice
    if request.method == "POST" and case_form.is_valid() and chosen is None:
        case_form.add_error("service", _("Choose a service."))  # withdrawn since it was drawn
    if request.method == "POST" and case_form.is_valid() and (asked or not case_form.specs):
        assert chosen is not None
        data = case_form.cleaned_data
        try:
            case = _call_case_open(request, data, chosen, answers=case_form.answers())
        except ValidationFailed as exc:
            errors_onto(case_form, exc, "description")
        else:
            messages.success(
                request,
                _("Case %(reference)s opened. Give the caller this reference.")
                % {"reference": case.reference},
            )
            if access_case_visible(request.user, case):
                return redirect("console:case", case_id=case.pk)
            return redirect("console:call")
    if request.method == "POST" and case_form.specs and not asked:
        # The service has its own questions: ask them before anything is checked.
        case_form = CallCaseForm(services=services, specs=specs, initial=request.POST.dict())
    cases = []
    if caller is not None:
        cases = [
            (c, reported, access_case_visible(request.user, c))
            for c, reported in case_list_for_citizen(citizen_id=caller.pk, limit=30)
        ]
    status = 400 if (search.errors or case_form.errors) else 200
    return render(
        request,
        "console/call.html",
        {
            "queues": QUEUES,
            "search": search,
            "caller": caller,
            "searched": search.is_bound and not search.errors,
            "cases": cases,
            "case_form": case_form,
            "asking": choice if chosen is not None and case_form.specs else "",
            "update_form": CallUpdateForm(),
        },
        status=status,
    )


def _contact_of(raw: str) -> tuple[str, str]:
    raw = raw.strip()
    try:
        if "@" in raw:
            return "email", email_normalise(raw)
        return "phone", phone_normalise(raw, region=settings.TOWNHALL_PHONE_REGION)
    except ValidationFailed:
        return "", ""


def _call_case_open(
    request: HttpRequest,
    data: dict[str, Any],
    service: ServiceType,
    *,
    answers: dict[str, object],
) -> Case:
    """The agent keyed in a caller's request: the intake pipeline, like every channel.

    The agent has the caller's history in front of them, so duplicates are suggested."""
    result = intake_submit(
        Message(
            channel=Channel.PHONE,
            sender=Sender(email=data["email"], phone=data["phone"], name=data["name"]),
            text=data["description"],
            place=Place(address=data["address"]),
            service=service,
            answers=answers,
            actor=staff_of(request),
            dedupe=Dedupe.SUGGEST,
            source=f"console:{request.user.pk}",
            raw=orjson.dumps({**data, "answers": answers}, default=str).decode(),
        )
    )
    assert result.case is not None  # a chosen service with SUGGEST always opens a case
    return result.case


@require_POST
@staff_required
def call_update_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """What a caller said about their case, as an internal note on the phone channel."""
    require(request, Action.LOG_CALL)
    try:
        case = access_case_get(request.user, case_id)
    except CaseNotFound:
        # Agents log calls about any case they can find by the caller; the note still
        # needs a case they may see.
        raise Http404 from None
    form = CallUpdateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write down what the caller said."))
        return redirect(safe_next(request, request.POST.get("next"), reverse("console:call")))
    case_note_add(
        case=case,
        text=_("Phone call: %(text)s") % {"text": form.cleaned_data["text"]},
        actor=staff_of(request),
        channel=Channel.PHONE,
    )
    messages.success(request, _("Call noted on %(reference)s.") % {"reference": case.reference})
    return redirect("console:case", case_id=case.pk)
