"""Actions that move a case or part of it: triage to the right service, duplicates,
splitting off a part, and (for supervisors) a new due date or another department.

Services are looked up within the case's own council: two councils on one site may use
the same service code.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from townhall.cases.access import Action, access_case_visible, access_department_ids
from townhall.cases.errors import InvalidMerge
from townhall.cases.services import case_due_change, case_split, case_transfer
from townhall.catalog.selectors import attribute_specs_for
from townhall.console.forms import DueForm, SplitForm, TransferForm
from townhall.console.selectors import (
    duplicate_suggestion_open_get,
    service_choices_for_case,
    service_for_case,
    transfer_department_get,
    transfer_departments,
)
from townhall.console.views.case_page import case_context, failed
from townhall.console.views.common import (
    back_to_case,
    case_or_404,
    errors_onto,
    require,
    staff_of,
    staff_required,
)
from townhall.core.errors import ValidationFailed
from townhall.intake.selectors import triage_review_pending
from townhall.intake.services import duplicate_suggestion_decide, triage_review_decide


@require_POST
@staff_required
def triage_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """Confirm the service the classifier guessed, or move the case to another one."""
    case = case_or_404(request, case_id)
    require(request, Action.WORK, case)
    pending = triage_review_pending(case=case)
    if pending is None:
        messages.info(request, _("This case has already been triaged."))
        return back_to_case(case)
    review, _suggestions = pending
    service = service_for_case(case, request.POST.get("service", ""))
    if service is None:
        messages.error(request, _("Choose a service that is taking requests."))
        return back_to_case(case)
    try:
        case = triage_review_decide(review=review, service=service, actor=staff_of(request))
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return back_to_case(case)
    messages.success(
        request,
        _("Filed under %(service)s (%(department)s).")
        % {"service": case.service_type.name, "department": case.department.name},
    )
    if access_case_visible(request.user, case):
        return back_to_case(case)
    return redirect("console:queue", slug="triage")


@require_POST
@staff_required
def duplicate_view(request: HttpRequest, case_id: int, suggestion_id: int) -> HttpResponse:
    """Merge a suggested duplicate into the open case it repeats, or dismiss the pair."""
    case = case_or_404(request, case_id)
    require(request, Action.WORK, case)
    suggestion = duplicate_suggestion_open_get(case, suggestion_id)
    if suggestion is None or not access_case_visible(request.user, suggestion.candidate):
        raise Http404
    merge = request.POST.get("decision") == "merge"
    try:
        survivor = duplicate_suggestion_decide(
            suggestion=suggestion, merge=merge, actor=staff_of(request)
        )
    except (InvalidMerge, ValidationFailed) as exc:
        messages.error(request, str(exc))
        return back_to_case(case)
    if merge:
        messages.success(
            request,
            _("Merged into %(reference)s: this case is closed as its duplicate.")
            % {"reference": suggestion.candidate.reference},
        )
        return redirect("console:case", case_id=suggestion.candidate_id)
    messages.success(request, _("Marked as a different problem."))
    return back_to_case(survivor)


@require_POST
@staff_required
def split_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """Split off part of a case as a new case; ask the new service's questions first."""
    case = case_or_404(request, case_id)
    require(request, Action.WORK, case)
    services = service_choices_for_case(case)
    chosen = service_for_case(case, request.POST.get("service", ""))
    specs = attribute_specs_for(service_type=chosen) if chosen is not None else []
    form = SplitForm(request.POST, services=services, specs=specs)
    asked = chosen is not None and request.POST.get("asked") == chosen.code
    if chosen is not None and form.specs and not asked:
        ask = SplitForm(services=services, specs=specs, initial=request.POST.dict())
        context = case_context(request, case, split_form=ask, split_asking=chosen.code)
        return render(request, "console/case.html", context)
    if not form.is_valid():
        return failed(request, case, split_form=form, split_asking=chosen.code if chosen else "")
    assert chosen is not None
    try:
        new = case_split(
            case=case,
            service_type=chosen,
            description=form.cleaned_data["description"],
            answers=form.answers(),
            actor=staff_of(request),
        )
    except ValidationFailed as exc:
        errors_onto(form, exc, "description")
        return failed(request, case, split_form=form, split_asking=chosen.code)
    messages.success(
        request, _("%(reference)s opened for that part.") % {"reference": new.reference}
    )
    if access_case_visible(request.user, new):
        return redirect("console:case", case_id=new.pk)
    return back_to_case(case)


# --- supervisors ---------------------------------------------------------------------------


@require_POST
@staff_required
def due_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request, case_id)
    require(request, Action.SUPERVISE, case)
    form = DueForm(request.POST)
    if not form.is_valid():
        return failed(request, case, due_form=form)
    data = form.cleaned_data
    try:
        case_due_change(
            case=case, due_at=data["due_at"], reason=data["reason"], actor=staff_of(request)
        )
    except ValidationFailed as exc:
        errors_onto(form, exc, "due_at")
        return failed(request, case, due_form=form)
    messages.success(request, _("Due date changed; the resident sees the new date."))
    return back_to_case(case)


@require_POST
@staff_required
def transfer_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request, case_id)
    require(request, Action.SUPERVISE, case)
    form = TransferForm(request.POST, departments=transfer_departments(case))
    if not form.is_valid():
        return failed(request, case, transfer_form=form)
    department = transfer_department_get(case, int(form.cleaned_data["department"]))
    if department is None:  # gone since the form was drawn
        form.add_error("department", _("Choose a department."))
        return failed(request, case, transfer_form=form)
    try:
        case_transfer(
            case=case,
            department=department,
            reason=form.cleaned_data["reason"],
            actor=staff_of(request),
        )
    except ValidationFailed as exc:
        errors_onto(form, exc, "department")
        return failed(request, case, transfer_form=form)
    messages.success(request, _("Moved to %(department)s.") % {"department": department.name})
    if access_department_ids(request.user) is not None and department.pk not in (
        access_department_ids(request.user) or frozenset()
    ):
        return redirect("console:queue", slug="unassigned")  # no longer theirs to see
    return back_to_case(case)
