"""Actions on the case page: notes and @mentions, watching, status, assignment, merging,
priority, the public summary, the private link and time spent.

Each is a POST that redirects back (a reload never repeats it) or shows the page again
with the form's errors; the change itself is a `cases` service.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from townhall.cases.access import (
    Action,
    access_can_be_assigned,
    access_case_get,
    access_case_visible,
)
from townhall.cases.errors import CaseNotFound, InvalidMerge
from townhall.cases.models import Case
from townhall.cases.selectors import case_get_by_reference
from townhall.cases.services import (
    case_assign,
    case_link_rotate,
    case_merge,
    case_note_add,
    case_priority_change,
    case_public_summary_set,
    case_time_log,
    case_transition,
    case_watch,
)
from townhall.console.forms import (
    AssignForm,
    MergeForm,
    NoteForm,
    PriorityForm,
    PublicSummaryForm,
    StatusForm,
    TimeForm,
)
from townhall.console.labels import staff_status_label
from townhall.console.selectors import department_members, staff_by_usernames, user_get
from townhall.console.services import watchers_tell
from townhall.console.views.case_page import failed
from townhall.console.views.common import (
    back_to_case,
    case_or_404,
    errors_onto,
    require,
    staff_of,
    staff_required,
)
from townhall.core.errors import ValidationFailed
from townhall.core.security import SecurityEventKind, security_event


@require_POST
@staff_required
def note_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """An internal note or a public update, on an open case or one resolved or closed."""
    case = case_or_404(request, case_id)
    require(request, Action.WORK, case)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return failed(request, case, note_form=form)
    public = form.cleaned_data["visibility"] == "public"
    text = form.cleaned_data["text"]
    try:
        case_note_add(case=case, text=text, actor=staff_of(request), public=public)
    except ValidationFailed as exc:
        # e.g. a case the cases service no longer takes notes on: said next to the form
        errors_onto(form, exc, "text")
        return failed(request, case, note_form=form)
    messages.success(
        request, _("Public update sent to the resident.") if public else _("Internal note added.")
    )
    mentioned = _mentions(request, case, text)
    label = _("Public update") if public else _("Internal note")
    watchers_tell(case, staff_of(request), f"{label}: {text}", mentioned=mentioned)
    return back_to_case(case)


MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9][\w.+-]{0,149})")


def _mentions(request: HttpRequest, case: Case, text: str) -> set[int]:
    """Colleagues @mentioned in a note start watching the case; return their ids.

    Names that are not staff who can see the case are reported back, not silently dropped.
    """
    names = {m.rstrip(".") for m in MENTION.findall(text)}
    if not names:
        return set()
    found = staff_by_usernames(names)
    ids = set()
    for name in sorted(names):
        user = found.get(name)
        if user is None or not access_case_visible(user, case):
            messages.warning(
                request,
                _("@%(name)s was not told: no colleague of that name can see this case.")
                % {"name": name},
            )
            continue
        case_watch(case=case, user=user)
        ids.add(user.pk)
    return ids


@require_POST
@staff_required
def watch_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request, case_id)
    watching = request.POST.get("watch") == "1"
    case_watch(case=case, user=staff_of(request), watching=watching)
    if watching:
        messages.success(request, _("You will be e-mailed when colleagues work on this case."))
    else:
        messages.success(request, _("You no longer watch this case."))
    return back_to_case(case)


@require_POST
@staff_required
def status_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request, case_id)
    require(request, Action.WORK, case)
    form = StatusForm(request.POST, current=case.status)
    if not form.is_valid():
        return failed(request, case, status_form=form)
    try:
        case_transition(
            case=case,
            to=form.cleaned_data["to"],
            actor=staff_of(request),
            note=form.cleaned_data["note"],
        )
    except ValidationFailed as exc:
        errors_onto(form, exc, "to")
        return failed(request, case, status_form=form)
    status = _("Status is now %(status)s.") % {"status": staff_status_label(case.status)}
    messages.success(request, status)
    watchers_tell(case, staff_of(request), f"{status} {form.cleaned_data['note']}".strip())
    return back_to_case(case)


@require_POST
@staff_required
def assign_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request, case_id)
    members = department_members(case)
    raw = request.POST.get("assignee", "")
    taking = raw == str(request.user.pk) or raw == "me"
    require(request, Action.WORK if taking else Action.ASSIGN, case)
    data = request.POST.copy()
    if raw == "me":
        data["assignee"] = str(request.user.pk)
    me = staff_of(request)
    if taking and me.pk not in {pk for pk, _name in members}:  # e.g. a council admin
        members.append((me.pk, me.get_full_name() or me.get_username()))
    form = AssignForm(data, members=members)
    if not form.is_valid():
        return failed(request, case, assign_form=form)
    chosen = form.cleaned_data["assignee"]
    assignee = None
    if chosen:
        assignee = user_get(int(chosen))
        if assignee is None or not access_can_be_assigned(assignee, case):
            form.add_error("assignee", _("Choose someone in the case's department."))
            return failed(request, case, assign_form=form)
    try:
        case_assign(case=case, assignee=assignee, actor=staff_of(request))
    except ValidationFailed as exc:
        errors_onto(form, exc, "assignee")
        return failed(request, case, assign_form=form)
    messages.success(request, _("Assignment saved."))
    return back_to_case(case)


@require_POST
@staff_required
def merge_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request, case_id)
    require(request, Action.WORK, case)
    form = MergeForm(request.POST)
    if not form.is_valid():
        return failed(request, case, merge_form=form)
    try:
        found = case_get_by_reference(reference=form.cleaned_data["into"])
        into = access_case_get(request.user, found.pk)
    except CaseNotFound:
        form.add_error("into", _("No case you can see has that reference."))
        return failed(request, case, merge_form=form)
    try:
        case_merge(case=case, into=into, actor=staff_of(request))
    except (InvalidMerge, ValidationFailed) as exc:
        form.add_error("into", str(exc))
        return failed(request, case, merge_form=form)
    messages.success(
        request,
        _("Merged into %(reference)s: this case is closed as its duplicate.")
        % {"reference": into.reference},
    )
    return redirect("console:case", case_id=into.pk)


@require_POST
@staff_required
def priority_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request, case_id)
    require(request, Action.WORK, case)
    form = PriorityForm(request.POST)
    if not form.is_valid():
        return failed(request, case, priority_form=form)
    try:
        case_priority_change(
            case=case, priority=form.cleaned_data["priority"], actor=staff_of(request)
        )
    except ValidationFailed as exc:
        errors_onto(form, exc, "priority")
        return failed(request, case, priority_form=form)
    messages.success(request, _("Priority changed; the due date follows the new target."))
    return back_to_case(case)


@require_POST
@staff_required
def public_summary_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """Staff approve the words published about the case (or go back to the masked ones)."""
    case = case_or_404(request, case_id)
    require(request, Action.WORK, case)
    form = PublicSummaryForm(request.POST)
    if not form.is_valid():
        return failed(request, case, summary_form=form)
    try:
        case_public_summary_set(
            case=case, summary=form.cleaned_data["summary"], actor=staff_of(request)
        )
    except ValidationFailed as exc:
        errors_onto(form, exc, "summary")
        return failed(request, case, summary_form=form)
    messages.success(request, _("The public summary is saved."))
    return back_to_case(case)


@require_POST
@staff_required
def link_rotate_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """Replace the resident's private link (it reached someone else)."""
    case = case_or_404(request, case_id)
    require(request, Action.WORK, case)
    rotated = case_link_rotate(case=case, actor=staff_of(request))
    security_event(
        SecurityEventKind.PRIVATE_LINK_ROTATED,
        request=request,
        subject=rotated.reference,
        detail={"by": "staff"},
    )
    messages.success(request, _("The private link is replaced; the old one no longer works."))
    return back_to_case(case)


@require_POST
@staff_required
def time_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request, case_id)
    require(request, Action.WORK, case)
    form = TimeForm(request.POST)
    if not form.is_valid():
        return failed(request, case, time_form=form)
    case_time_log(
        case=case,
        user=staff_of(request),
        minutes=form.cleaned_data["minutes"],
        note=form.cleaned_data["note"],
    )
    messages.success(
        request, _("%(minutes)s minutes recorded.") % {"minutes": form.cleaned_data["minutes"]}
    )
    return back_to_case(case)
