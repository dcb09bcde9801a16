"""The caseworker console: queues, the case with its whole story, and the actions on it.

Every case is fetched through `cases.access`: staff see their departments' cases only and
get the same 404 for another department's case as for one that does not exist. Actions
are POSTs that redirect back (so a reload never repeats them) and answer mistakes with the
form again and its errors, never a 500.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

import orjson
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from townhall.cases.access import (
    Action,
    access_can,
    access_can_be_assigned,
    access_case_get,
    access_case_visible,
    access_cases,
    access_department_ids,
    access_is_staff,
)
from townhall.cases.errors import CaseNotFound, InvalidCaseInput, InvalidMerge
from townhall.cases.lifecycle import OPEN_STATUSES, CaseStatus, allowed_next
from townhall.cases.models import Case, CaseEvent, CaseEventKind, CasePhoto, CaseWatcher
from townhall.cases.selectors import (
    case_events_personal_attach,
    case_get_by_reference,
    case_list_for_citizen,
    case_minutes_spent,
    case_public_text,
)
from townhall.cases.services import (
    case_assign,
    case_due_change,
    case_link_rotate,
    case_merge,
    case_note_add,
    case_priority_change,
    case_public_summary_set,
    case_split,
    case_time_log,
    case_transfer,
    case_transition,
    case_watch,
)
from townhall.catalog.models import Department, DepartmentMember, ServiceType
from townhall.catalog.selectors import attribute_specs_for
from townhall.console.forms import (
    AssignForm,
    BulkForm,
    CallCaseForm,
    CallerSearchForm,
    CallUpdateForm,
    DueForm,
    FindForm,
    MergeForm,
    NoteForm,
    PriorityForm,
    PublicSummaryForm,
    SavedViewForm,
    SplitForm,
    StatusForm,
    TimeForm,
    TransferForm,
)
from townhall.console.models import CannedResponse, SavedView
from townhall.console.queues import QUEUES, QueueFilterForm, queue_counts, queue_page
from townhall.console.twostep import SSO_SESSION_KEY, must_set_up, needs_second_step
from townhall.core import clock
from townhall.core.dates import long_date
from townhall.core.errors import ValidationFailed
from townhall.core.security import SecurityEventKind, security_event
from townhall.core.web import safe_next
from townhall.intake.messages import Dedupe, Message, Place, Sender
from townhall.intake.models import DuplicateSuggestion, InboundAttachment, SuggestionStatus
from townhall.intake.privacy import privacy_may_export, resident_export_file
from townhall.intake.selectors import (
    duplicate_suggestions_open,
    messages_for_case,
    triage_review_pending,
)
from townhall.intake.services import (
    duplicate_suggestion_decide,
    intake_submit,
    triage_review_decide,
)
from townhall.people.contacts import email_normalise, phone_normalise
from townhall.people.models import Channel
from townhall.people.selectors import citizen_by_contact, citizen_contacts_for_staff

View = Callable[..., Any]
logger = logging.getLogger(__name__)


def _staff(request: HttpRequest) -> Any:
    """The signed-in member of staff (the decorator has checked)."""
    return request.user


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


def _case_or_404(request: HttpRequest, case_id: int) -> Case:
    try:
        return access_case_get(request.user, case_id)
    except CaseNotFound:
        raise Http404 from None


def _require(request: HttpRequest, action: Action, case: Case | None = None) -> None:
    if not access_can(request.user, action, case):
        raise PermissionDenied


# --- queues ---------------------------------------------------------------------------


def _services_for(user: Any) -> list[tuple[str, str]]:
    """(code, name) of the services whose cases `user` sees, for the filter."""
    departments = access_department_ids(user)
    qs = ServiceType.objects.filter(active=True).order_by("name")
    if departments is not None:
        qs = qs.filter(department_id__in=departments)
    return list(qs.values_list("code", "name"))


@require_GET
@staff_required
def queue_view(request: HttpRequest, slug: str = "mine") -> HttpResponse:
    queue = QUEUES.get(slug)
    if queue is None:
        raise Http404
    now = clock.now()
    form = QueueFilterForm(request.GET or None, services=_services_for(request.user))
    rows, has_next, page = queue_page(queue, request.user, form, now=now)
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "queue": queue,
        "queues": QUEUES,
        "counts": queue_counts(request.user, now),
        "rows": rows,
        "has_next": has_next,
        "page": page,
        "query": params.urlencode(),
        "form": form,
        "now": now,
        "bulk_form": BulkForm(case_ids=[]),
        "can_bulk": access_can(request.user, Action.WORK),
        "find_form": FindForm(),
        "saved_views": list(SavedView.objects.filter(user_id=_staff(request).pk)),
        "saved_form": SavedViewForm(),
    }
    if getattr(request, "htmx", False):
        return render(request, "console/_queue_table.html", context)
    return render(request, "console/queue.html", context, status=400 if form.errors else 200)


@require_POST
@staff_required
def bulk_view(request: HttpRequest) -> HttpResponse:
    _require(request, Action.WORK)
    posted = [int(v) for v in request.POST.getlist("cases") if v.isdigit()][:200]
    visible = list(access_cases(request.user).filter(pk__in=posted, status__in=OPEN_STATUSES))
    data = request.POST.copy()
    data.setlist("cases", [str(c.pk) for c in visible])  # others are ignored, not reported
    form = BulkForm(data, case_ids=[c.pk for c in visible])
    back = safe_next(request, request.POST.get("next"), reverse("console:queue", args=["mine"]))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(back)
    chosen = [c for c in visible if c.pk in set(form.cleaned_data["cases"])]
    to = _staff(request) if form.cleaned_data["action"] == "take" else None
    done = 0
    for case in chosen:
        try:
            case_assign(case=case, assignee=to, actor=_staff(request))
        except InvalidCaseInput:
            continue
        done += 1
    messages.success(request, _("%(count)s case(s) updated.") % {"count": done})
    return redirect(back)


@require_GET
@staff_required
def find_view(request: HttpRequest) -> HttpResponse:
    form = FindForm(request.GET)
    if form.is_valid():
        try:
            found = case_get_by_reference(reference=form.cleaned_data["reference"])
            case = access_case_get(request.user, found.pk)
        except CaseNotFound:
            pass
        else:
            return redirect("console:case", case_id=case.pk)
    messages.error(request, _("No case you can see has that reference."))
    return redirect("console:queue", slug="all")


# --- the case -------------------------------------------------------------------------


def _members(case: Case) -> list[tuple[int, str]]:
    rows = (
        DepartmentMember.objects.filter(department_id=case.department_id, user__is_active=True)
        .select_related("user")
        .order_by("user__first_name", "user__username")
    )
    return [(m.user_id, m.user.get_full_name() or m.user.get_username()) for m in rows]


def _answers(case: Case) -> list[tuple[str, str]]:
    specs = {s.code: s for s in attribute_specs_for(service_type=case.service_type)}
    out = []
    for code, value in (case.answers or {}).items():
        spec = specs.get(code)
        label = spec.description if spec else code
        names = dict(zip(spec.values, spec.value_names, strict=False)) if spec else {}
        values = value if isinstance(value, list) else [value]
        out.append((label, ", ".join(str(names.get(str(v), v)) for v in values)))
    return out


def _citizen_story(case: Case) -> dict[str, Any]:
    """The reporter's other requests on every channel and their verified contacts."""
    if case.reporter_id is None:
        return {}
    others = [
        (c, reported)
        for c, reported in case_list_for_citizen(citizen_id=case.reporter_id, limit=30)
        if c.pk != case.pk
    ]
    contacts = citizen_contacts_for_staff(citizen_id=case.reporter_id)
    same_person = any(getattr(point, "same_person_hint", False) for point in contacts)
    return {"others": others, "contacts": contacts, "same_person": same_person}


def _may_offer_export(user: Any, case: Case, story: dict[str, Any]) -> bool:
    """Show "Export the resident's data" when the requests the page already lists are all
    this user's to see (no extra query); the export itself checks every case
    (intake.privacy.privacy_may_export) and refuses otherwise."""
    if case.reporter_id is None:
        return False
    departments = access_department_ids(user)
    if departments is None:
        return True
    return all(c.department_id in departments for c, _r in [(case, True), *story["others"]])


def _remaining(case: Case, now: datetime) -> dict[str, Any]:
    if case.status not in OPEN_STATUSES:
        return {}
    if case.sla_paused_remaining is not None:
        return {"paused": True, "left": case.sla_paused_remaining}
    if case.due_at is None:
        return {}
    delta = case.due_at - now
    return {"late": delta.total_seconds() < 0, "left": abs(delta)}


def _case_context(request: HttpRequest, case: Case, **forms: Any) -> dict[str, Any]:
    now = clock.now()
    user = request.user
    events = case_events_personal_attach(
        list(CaseEvent.objects.filter(case=case).select_related("actor").order_by("-seq")[:200])
    )
    can_work = access_can(user, Action.WORK, case) and case.status in OPEN_STATUSES
    triage = triage_review_pending(case=case) if can_work else None
    story = _citizen_story(case)
    return {
        "queues": QUEUES,
        "map_settings": {
            "tiles": settings.TOWNHALL_MAP_TILE_URL,
            "attribution": settings.TOWNHALL_MAP_ATTRIBUTION,
        },
        "case": case,
        "events": events,
        "photos": list(CasePhoto.objects.filter(case=case).only("id", "width", "height")),
        "answers": _answers(case),
        "story": story,
        "can_export_resident": _may_offer_export(user, case, story),
        "sla": _remaining(case, now),
        "now": now,
        "can_work": can_work,
        "can_status": access_can(user, Action.WORK, case)
        and any(s != CaseStatus.DUPLICATE for s in allowed_next(case.status)),
        "can_assign": access_can(user, Action.ASSIGN, case) and case.status in OPEN_STATUSES,
        "note_form": forms.get("note_form") or _note_form(request, case),
        "canned": _canned_for(case) if can_work else [],
        "can_supervise": access_can(user, Action.SUPERVISE, case) and case.status in OPEN_STATUSES,
        "due_form": forms.get("due_form") or DueForm(),
        "transfer_form": forms.get("transfer_form") or TransferForm(departments=_departments(case)),
        "time_form": forms.get("time_form") or TimeForm(),
        "split_form": forms.get("split_form") or SplitForm(services=_split_services(case)),
        "split_asking": forms.get("split_asking", ""),
        "minutes_spent": case_minutes_spent(case_id=case.pk),
        "watchers": [w.user for w in CaseWatcher.objects.filter(case=case).select_related("user")],
        "status_form": forms.get("status_form") or StatusForm(current=case.status),
        "assign_form": forms.get("assign_form")
        or AssignForm(initial={"assignee": case.assignee_id or ""}, members=_members(case)),
        "merge_form": forms.get("merge_form") or MergeForm(),
        "priority_form": forms.get("priority_form")
        or PriorityForm(initial={"priority": case.priority}),
        "public_text": case_public_text(case),
        "can_publish": access_can(user, Action.WORK, case),
        "summary_form": forms.get("summary_form")
        or PublicSummaryForm(initial={"summary": case.public_summary}),
        "kinds": CaseEventKind,
        "triage": triage,
        "duplicates": list(duplicate_suggestions_open(case=case)[:5]) if can_work else [],
        "triage_services": _call_services(user) if triage else [],
        "inbound": list(messages_for_case(case=case)[:50]),
    }


def _note_form(request: HttpRequest, case: Case) -> NoteForm:
    """An empty note form, or one filled from the canned response chosen (?canned=id)."""
    chosen = request.GET.get("canned", "")
    if chosen.isdigit():
        canned = next((c for c in _canned_for(case) if c.pk == int(chosen)), None)
        if canned is not None:
            text = canned.render(_canned_values(case, request.user))
            visibility = "public" if canned.public else "internal"
            return NoteForm(initial={"text": text, "visibility": visibility})
    return NoteForm()


@require_GET
@staff_required
def case_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    if case.reporter_id is not None:  # the page shows the resident's contacts and requests
        security_event(
            SecurityEventKind.RESIDENT_VIEWED,
            request=request,
            subject=f"citizen:{case.reporter_id}",
            detail={"via": "console case", "case": case.reference},
        )
    return render(request, "console/case.html", _case_context(request, case))


def _back(case: Case) -> HttpResponse:
    return redirect(reverse("console:case", args=[case.pk]) + "#actions")


def _failed(request: HttpRequest, case: Case, **forms: Any) -> HttpResponse:
    return render(request, "console/case.html", _case_context(request, case, **forms), status=400)


def _errors_onto(form: Any, exc: ValidationFailed, field: str) -> None:
    details = getattr(exc, "details", None) or {}
    if details:
        for key, problems in details.items():
            for problem in problems if isinstance(problems, list) else [problems]:
                form.add_error(field if key not in form.fields else key, str(problem))
    else:
        form.add_error(field, str(exc))


@require_POST
@staff_required
def note_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    _require(request, Action.WORK, case)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _failed(request, case, note_form=form)
    public = form.cleaned_data["visibility"] == "public"
    text = form.cleaned_data["text"]
    try:
        case_note_add(case=case, text=text, actor=_staff(request), public=public)
    except ValidationFailed as exc:
        _errors_onto(form, exc, "text")
        return _failed(request, case, note_form=form)
    messages.success(
        request, _("Public update sent to the resident.") if public else _("Internal note added.")
    )
    mentioned = _mentions(request, case, text)
    label = _("Public update") if public else _("Internal note")
    _tell_watchers(case, _staff(request), f"{label}: {text}", mentioned=mentioned)
    return _back(case)


MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9][\w.+-]{0,149})")


def _mentions(request: HttpRequest, case: Case, text: str) -> set[int]:
    """Colleagues @mentioned in a note start watching the case; return their ids.

    Names that are not staff who can see the case are reported back, not silently dropped.
    """
    names = {m.rstrip(".") for m in MENTION.findall(text)}
    if not names:
        return set()
    found = {
        u.get_username(): u
        for u in get_user_model().objects.filter(username__in=names, is_active=True, is_staff=True)
    }
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


def _tell_watchers(case: Case, actor: Any, what: str, *, mentioned: set[int] | None = None) -> None:
    """E-mail everyone watching `case` (but the one who acted) what just happened."""
    # Through the outbox (notify.staff_mail): retried, with delivery status, in the
    # language the console is in.
    from django.utils.translation import get_language

    from townhall.notify.services import case_watchers_tell

    case_watchers_tell(
        case=case, actor=actor, what=what, mentioned=mentioned, language=get_language()
    )


@require_POST
@staff_required
def resident_export_view(request: HttpRequest, case_id: int) -> FileResponse:
    """Everything about the case's reporter as one ZIP (a POST: no personal data in URLs).

    Only for staff who may see every case of that resident (intake.privacy).
    """
    case = _case_or_404(request, case_id)
    if case.reporter is None or not privacy_may_export(request.user, case.reporter):
        raise PermissionDenied
    handle = resident_export_file(
        citizen_id=case.reporter.pk, actor=_staff(request), request=request, via="console"
    )
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"resident-{case.reporter.pk}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@staff_required
def watch_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    watching = request.POST.get("watch") == "1"
    case_watch(case=case, user=_staff(request), watching=watching)
    if watching:
        messages.success(request, _("You will be e-mailed when colleagues work on this case."))
    else:
        messages.success(request, _("You no longer watch this case."))
    return _back(case)


@require_POST
@staff_required
def status_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    _require(request, Action.WORK, case)
    form = StatusForm(request.POST, current=case.status)
    if not form.is_valid():
        return _failed(request, case, status_form=form)
    try:
        case_transition(
            case=case,
            to=form.cleaned_data["to"],
            actor=_staff(request),
            note=form.cleaned_data["note"],
        )
    except ValidationFailed as exc:
        _errors_onto(form, exc, "to")
        return _failed(request, case, status_form=form)
    status = _("Status is now %(status)s.") % {"status": CaseStatus(case.status).label}
    messages.success(request, status)
    _tell_watchers(case, _staff(request), f"{status} {form.cleaned_data['note']}".strip())
    return _back(case)


@require_POST
@staff_required
def assign_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    members = _members(case)
    raw = request.POST.get("assignee", "")
    taking = raw == str(request.user.pk) or raw == "me"
    _require(request, Action.WORK if taking else Action.ASSIGN, case)
    data = request.POST.copy()
    if raw == "me":
        data["assignee"] = str(request.user.pk)
    me = _staff(request)
    if taking and me.pk not in {pk for pk, _name in members}:  # e.g. a council admin
        members.append((me.pk, me.get_full_name() or me.get_username()))
    form = AssignForm(data, members=members)
    if not form.is_valid():
        return _failed(request, case, assign_form=form)
    chosen = form.cleaned_data["assignee"]
    assignee = None
    if chosen:
        assignee = get_user_model().objects.filter(pk=int(chosen)).first()
        if assignee is None or not access_can_be_assigned(assignee, case):
            form.add_error("assignee", _("Choose someone in the case's department."))
            return _failed(request, case, assign_form=form)
    try:
        case_assign(case=case, assignee=assignee, actor=_staff(request))
    except ValidationFailed as exc:
        _errors_onto(form, exc, "assignee")
        return _failed(request, case, assign_form=form)
    messages.success(request, _("Assignment saved."))
    return _back(case)


@require_POST
@staff_required
def merge_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    _require(request, Action.WORK, case)
    form = MergeForm(request.POST)
    if not form.is_valid():
        return _failed(request, case, merge_form=form)
    try:
        found = case_get_by_reference(reference=form.cleaned_data["into"])
        into = access_case_get(request.user, found.pk)
    except CaseNotFound:
        form.add_error("into", _("No case you can see has that reference."))
        return _failed(request, case, merge_form=form)
    try:
        case_merge(case=case, into=into, actor=_staff(request))
    except (InvalidMerge, ValidationFailed) as exc:
        form.add_error("into", str(exc))
        return _failed(request, case, merge_form=form)
    messages.success(
        request,
        _("Merged into %(reference)s: this case is closed as its duplicate.")
        % {"reference": into.reference},
    )
    return redirect("console:case", case_id=into.pk)


@require_POST
@staff_required
def triage_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """Confirm the service the classifier guessed, or move the case to another one."""
    case = _case_or_404(request, case_id)
    _require(request, Action.WORK, case)
    pending = triage_review_pending(case=case)
    if pending is None:
        messages.info(request, _("This case has already been triaged."))
        return _back(case)
    review, _suggestions = pending
    service = ServiceType.objects.filter(
        code=request.POST.get("service", ""),
        jurisdiction_id=case.service_type.jurisdiction_id,
        active=True,
    ).first()
    if service is None:
        messages.error(request, _("Choose a service that is taking requests."))
        return _back(case)
    try:
        case = triage_review_decide(review=review, service=service, actor=_staff(request))
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return _back(case)
    messages.success(
        request,
        _("Filed under %(service)s (%(department)s).")
        % {"service": case.service_type.name, "department": case.department.name},
    )
    if access_case_visible(request.user, case):
        return _back(case)
    return redirect("console:queue", slug="triage")


@require_POST
@staff_required
def duplicate_view(request: HttpRequest, case_id: int, suggestion_id: int) -> HttpResponse:
    """Merge a suggested duplicate into the open case it repeats, or dismiss the pair."""
    case = _case_or_404(request, case_id)
    _require(request, Action.WORK, case)
    suggestion = DuplicateSuggestion.objects.filter(
        pk=suggestion_id, case=case, status=SuggestionStatus.OPEN
    ).first()
    if suggestion is None or not access_case_visible(request.user, suggestion.candidate):
        raise Http404
    merge = request.POST.get("decision") == "merge"
    try:
        survivor = duplicate_suggestion_decide(
            suggestion=suggestion, merge=merge, actor=_staff(request)
        )
    except (InvalidMerge, ValidationFailed) as exc:
        messages.error(request, str(exc))
        return _back(case)
    if merge:
        messages.success(
            request,
            _("Merged into %(reference)s: this case is closed as its duplicate.")
            % {"reference": suggestion.candidate.reference},
        )
        return redirect("console:case", case_id=suggestion.candidate_id)
    messages.success(request, _("Marked as a different problem."))
    return _back(survivor)


@require_POST
@staff_required
def priority_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    _require(request, Action.WORK, case)
    form = PriorityForm(request.POST)
    if not form.is_valid():
        return _failed(request, case, priority_form=form)
    try:
        case_priority_change(
            case=case, priority=form.cleaned_data["priority"], actor=_staff(request)
        )
    except ValidationFailed as exc:
        _errors_onto(form, exc, "priority")
        return _failed(request, case, priority_form=form)
    messages.success(request, _("Priority changed; the due date follows the new target."))
    return _back(case)


@require_POST
@staff_required
def public_summary_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """Staff approve the words published about the case (or go back to the masked ones)."""
    case = _case_or_404(request, case_id)
    _require(request, Action.WORK, case)
    form = PublicSummaryForm(request.POST)
    if not form.is_valid():
        return _failed(request, case, summary_form=form)
    try:
        case_public_summary_set(
            case=case, summary=form.cleaned_data["summary"], actor=_staff(request)
        )
    except ValidationFailed as exc:
        _errors_onto(form, exc, "summary")
        return _failed(request, case, summary_form=form)
    messages.success(request, _("The public summary is saved."))
    return _back(case)


@require_POST
@staff_required
def link_rotate_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """Replace the resident's private link (it reached someone else)."""
    case = _case_or_404(request, case_id)
    _require(request, Action.WORK, case)
    rotated = case_link_rotate(case=case, actor=_staff(request))
    security_event(
        SecurityEventKind.PRIVATE_LINK_ROTATED,
        request=request,
        subject=rotated.reference,
        detail={"by": "staff"},
    )
    messages.success(request, _("The private link is replaced; the old one no longer works."))
    return _back(case)


@require_GET
@staff_required
def photo_view(request: HttpRequest, case_id: int, photo_id: int) -> FileResponse:
    case = _case_or_404(request, case_id)
    photo = CasePhoto.objects.filter(pk=photo_id, case_id=case.pk).first()
    if photo is None:
        raise Http404
    try:
        handle = photo.file.open("rb")
    except OSError:
        raise Http404 from None
    response = FileResponse(handle, content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@staff_required
def attachment_view(request: HttpRequest, case_id: int, attachment_id: int) -> FileResponse:
    """A file that came with a message about the case, as received, always as a download
    (never rendered in the console's origin: it may be anything)."""
    case = _case_or_404(request, case_id)
    attachment = InboundAttachment.objects.filter(
        pk=attachment_id, message__case_id=case.pk
    ).first()
    if attachment is None:
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except OSError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename or f"attachment-{attachment.pk}",
        content_type="application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- supervisors: due dates, transfers, the team ---------------------------------------


@require_POST
@staff_required
def due_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    _require(request, Action.SUPERVISE, case)
    form = DueForm(request.POST)
    if not form.is_valid():
        return _failed(request, case, due_form=form)
    data = form.cleaned_data
    try:
        case_due_change(
            case=case, due_at=data["due_at"], reason=data["reason"], actor=_staff(request)
        )
    except ValidationFailed as exc:
        _errors_onto(form, exc, "due_at")
        return _failed(request, case, due_form=form)
    messages.success(request, _("Due date changed; the resident sees the new date."))
    return _back(case)


@require_POST
@staff_required
def transfer_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    _require(request, Action.SUPERVISE, case)
    departments = _departments(case)
    form = TransferForm(request.POST, departments=departments)
    if not form.is_valid():
        return _failed(request, case, transfer_form=form)
    department = Department.objects.get(pk=int(form.cleaned_data["department"]))
    try:
        case_transfer(
            case=case,
            department=department,
            reason=form.cleaned_data["reason"],
            actor=_staff(request),
        )
    except ValidationFailed as exc:
        _errors_onto(form, exc, "department")
        return _failed(request, case, transfer_form=form)
    messages.success(request, _("Moved to %(department)s.") % {"department": department.name})
    if access_department_ids(request.user) is not None and department.pk not in (
        access_department_ids(request.user) or frozenset()
    ):
        return redirect("console:queue", slug="unassigned")  # no longer theirs to see
    return _back(case)


def _departments(case: Case) -> list[tuple[int, str]]:
    return list(
        Department.objects.filter(jurisdiction_id=case.department.jurisdiction_id)
        .exclude(pk=case.department_id)
        .order_by("name")
        .values_list("pk", "name")
    )


@require_GET
@staff_required
def team_view(request: HttpRequest) -> HttpResponse:
    """Team load, breaches by department and the oldest open cases, for supervisors."""
    _require(request, Action.SUPERVISE)
    now = clock.now()
    departments = access_department_ids(request.user)
    open_cases = access_cases(request.user).filter(status__in=OPEN_STATUSES)
    members = DepartmentMember.objects.select_related("user", "department").order_by(
        "department__name", "user__first_name", "user__username"
    )
    if departments is not None:
        members = members.filter(department_id__in=departments)
    load = {
        (row["assignee_id"], row["department_id"]): row
        for row in open_cases.filter(assignee__isnull=False)
        .values("assignee_id", "department_id")
        .annotate(
            open=Count("pk"),
            late=Count("pk", filter=Q(due_at__lt=now) | Q(breached_at__isnull=False)),
        )
    }
    team = [(m, load.get((m.user_id, m.department_id), {"open": 0, "late": 0})) for m in members]
    by_department = list(
        open_cases.values("department__name")
        .annotate(
            open=Count("pk"),
            unassigned=Count("pk", filter=Q(assignee__isnull=True)),
            late=Count("pk", filter=Q(due_at__lt=now) | Q(breached_at__isnull=False)),
        )
        .order_by("-late", "department__name")
    )
    oldest = list(
        open_cases.select_related("service_type", "assignee", "department").order_by(
            "opened_at", "pk"
        )[:15]
    )
    return render(
        request,
        "console/team.html",
        {
            "queues": QUEUES,
            "team": team,
            "by_department": by_department,
            "oldest": oldest,
            "now": now,
        },
    )


# --- time, canned responses -------------------------------------------------------------


@require_POST
@staff_required
def time_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    _require(request, Action.WORK, case)
    form = TimeForm(request.POST)
    if not form.is_valid():
        return _failed(request, case, time_form=form)
    case_time_log(
        case=case,
        user=_staff(request),
        minutes=form.cleaned_data["minutes"],
        note=form.cleaned_data["note"],
    )
    messages.success(
        request, _("%(minutes)s minutes recorded.") % {"minutes": form.cleaned_data["minutes"]}
    )
    return _back(case)


def _canned_for(case: Case) -> list[CannedResponse]:
    return list(
        CannedResponse.objects.filter(active=True)
        .filter(Q(department__isnull=True) | Q(department_id=case.department_id))
        .order_by("title")
    )


def _canned_values(case: Case, user: Any) -> dict[str, str]:
    reporter = case.reporter
    return {
        "name": (reporter.display_name if reporter else "") or _("resident"),
        "reference": case.reference,
        "service": case.service_type.name,
        "status": str(CaseStatus(case.status).label),
        "expected_date": long_date(case.expected_on),
        "staff_name": user.get_full_name() or user.get_username(),
    }


# --- the phone --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_required
def call_view(request: HttpRequest) -> HttpResponse:
    """Log a call: find the caller first (tell us once), then a new case or an update."""
    _require(request, Action.LOG_CALL)
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
    services = _call_services(request.user)
    initial = {"phone": contact_value} if contact_kind == "phone" else {"email": contact_value}
    chosen = ServiceType.objects.filter(code=request.POST.get("service", ""), active=True).first()
    specs = attribute_specs_for(service_type=chosen) if chosen is not None else []
    case_form = CallCaseForm(
        request.POST or None,
        services=services,
        specs=specs,
        initial=initial if contact_value else None,
    )
    asked = request.POST.get("asked") == (chosen.code if chosen else "")
    if request.method == "POST" and case_form.is_valid() and (asked or not case_form.specs):
        data = case_form.cleaned_data
        try:
            case = _call_case_open(request, data, answers=case_form.answers())
        except ValidationFailed as exc:
            _errors_onto(case_form, exc, "description")
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
            "asking": chosen.code if chosen is not None and case_form.specs else "",
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


def _call_services(user: Any) -> list[tuple[str, str]]:
    return list(
        ServiceType.objects.filter(active=True).order_by("name").values_list("code", "name")
    )


def _call_case_open(
    request: HttpRequest, data: dict[str, Any], *, answers: dict[str, object]
) -> Case:
    """The agent keyed in a caller's request: the intake pipeline, like every channel.

    The agent has the caller's history in front of them, so duplicates are suggested."""
    service = ServiceType.objects.get(code=data["service"], active=True)
    result = intake_submit(
        Message(
            channel=Channel.PHONE,
            sender=Sender(email=data["email"], phone=data["phone"], name=data["name"]),
            text=data["description"],
            place=Place(address=data["address"]),
            service=service,
            answers=answers,
            actor=_staff(request),
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
    _require(request, Action.LOG_CALL)
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
        actor=_staff(request),
        channel=Channel.PHONE,
    )
    messages.success(request, _("Call noted on %(reference)s.") % {"reference": case.reference})
    return redirect("console:case", case_id=case.pk)


# --- saved views ------------------------------------------------------------------------


@require_POST
@staff_required
def view_save(request: HttpRequest, slug: str) -> HttpResponse:
    """Save the queue `slug` with the filters it was showing under a name."""
    if slug not in QUEUES:
        raise Http404
    form = SavedViewForm(request.POST)
    query = request.POST.get("query", "")[:500]
    back = reverse("console:queue", args=[slug]) + (f"?{query}" if query else "")
    if not form.is_valid():
        messages.error(request, _("Give the view a name."))
        return redirect(back)
    SavedView.objects.update_or_create(
        user_id=_staff(request).pk,
        name=form.cleaned_data["name"].strip(),
        defaults={"queue": slug, "query": query},
    )
    messages.success(request, _("View saved."))
    return redirect(back)


@require_POST
@staff_required
def view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    deleted, _rows = SavedView.objects.filter(pk=view_id, user_id=_staff(request).pk).delete()
    if not deleted:
        raise Http404
    messages.success(request, _("View removed."))
    return redirect("console:home")


# --- splitting --------------------------------------------------------------------------


def _split_services(case: Case) -> list[tuple[str, str]]:
    return list(
        ServiceType.objects.filter(active=True, jurisdiction_id=case.service_type.jurisdiction_id)
        .order_by("name")
        .values_list("code", "name")
    )


@require_POST
@staff_required
def split_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """Split off part of a case as a new case; ask the new service's questions first."""
    case = _case_or_404(request, case_id)
    _require(request, Action.WORK, case)
    services = _split_services(case)
    chosen = ServiceType.objects.filter(
        code=request.POST.get("service", ""),
        active=True,
        jurisdiction_id=case.service_type.jurisdiction_id,
    ).first()
    specs = attribute_specs_for(service_type=chosen) if chosen is not None else []
    form = SplitForm(request.POST, services=services, specs=specs)
    asked = chosen is not None and request.POST.get("asked") == chosen.code
    if chosen is not None and form.specs and not asked:
        ask = SplitForm(services=services, specs=specs, initial=request.POST.dict())
        context = _case_context(request, case, split_form=ask, split_asking=chosen.code)
        return render(request, "console/case.html", context)
    if not form.is_valid():
        return _failed(request, case, split_form=form, split_asking=chosen.code if chosen else "")
    assert chosen is not None
    try:
        new = case_split(
            case=case,
            service_type=chosen,
            description=form.cleaned_data["description"],
            answers=form.answers(),
            actor=_staff(request),
        )
    except ValidationFailed as exc:
        _errors_onto(form, exc, "description")
        return _failed(request, case, split_form=form, split_asking=chosen.code)
    messages.success(
        request, _("%(reference)s opened for that part.") % {"reference": new.reference}
    )
    if access_case_visible(request.user, new):
        return redirect("console:case", case_id=new.pk)
    return _back(case)
