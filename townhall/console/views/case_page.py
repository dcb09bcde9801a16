"""The case page: the case with its whole story, and the forms of every action on it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.timezone import is_naive, localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from townhall.cases.access import Action, access_can, access_department_ids
from townhall.cases.lifecycle import OPEN_STATUSES, CaseStatus, allowed_next
from townhall.cases.models import Case, CaseEventKind
from townhall.cases.selectors import (
    case_events_personal_attach,
    case_list_for_citizen,
    case_minutes_spent,
    case_public_text,
)
from townhall.catalog.selectors import attribute_specs_for
from townhall.console.forms import (
    AssignForm,
    DueForm,
    MergeForm,
    NoteForm,
    PriorityForm,
    PublicSummaryForm,
    SplitForm,
    StatusForm,
    TimeForm,
    TransferForm,
)
from townhall.console.photo_tags import photo_context
from townhall.console.queues import QUEUES
from townhall.console.selectors import (
    canned_for,
    case_history,
    case_photos,
    case_watchers,
    department_members,
    service_choices_for_case,
    transfer_departments,
)
from townhall.console.views.common import case_or_404, staff_of, staff_required
from townhall.console.views.forwards import forwarding_context
from townhall.core import clock
from townhall.core.dates import long_date
from townhall.core.security import SecurityEventKind, security_event
from townhall.experience.selectors_frustration import case_frustration_get
from townhall.intake.selectors import (
    duplicate_suggestions_open,
    messages_for_case,
    triage_review_pending,
)
from townhall.people.selectors import citizen_contacts_for_staff

if TYPE_CHECKING:
    from townhall.core.users import SiteUser, StaffUser

# Notes stay possible once the work is done: a resident calls back about a resolved or
# closed case, a colleague records what happened after.
NOTE_STATUSES = OPEN_STATUSES | {CaseStatus.RESOLVED, CaseStatus.CLOSED}


def _answers(case: Case) -> list[tuple[str, str]]:
    specs = {s.code: s for s in attribute_specs_for(service_type=case.service_type)}
    out = []
    for code, value in (case.answers or {}).items():
        spec = specs.get(code)
        label = spec.description if spec else code
        names = dict(zip(spec.values, spec.value_names, strict=False)) if spec else {}
        values = value if isinstance(value, list) else [value]
        if spec is not None and spec.datatype == "datetime":
            values = [_when(v) for v in values]
        out.append((label, ", ".join(str(names.get(str(v), v)) for v in values)))
    return out


def _when(value: object) -> object:
    """A date-and-time answer (stored as ISO 8601) in the council's time and date format;
    anything unreadable as it came."""
    parsed = parse_datetime(str(value))
    if parsed is None:
        return value
    if is_naive(parsed):
        return date_format(parsed, "DATETIME_FORMAT")
    return date_format(localtime(parsed), "DATETIME_FORMAT")


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


def _may_offer_export(user: SiteUser, case: Case, story: dict[str, Any]) -> bool:
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


def may_note(user: SiteUser, case: Case) -> bool:
    """May `user` add a note or update to `case` now (open, resolved or closed)?"""
    return access_can(user, Action.WORK, case) and case.status in NOTE_STATUSES


def case_context(request: HttpRequest, case: Case, **forms: Any) -> dict[str, Any]:
    now = clock.now()
    user = request.user
    events = case_events_personal_attach(case_history(case))
    can_work = access_can(user, Action.WORK, case) and case.status in OPEN_STATUSES
    can_note = may_note(user, case)
    triage = triage_review_pending(case=case) if can_work else None
    photos = case_photos(case)
    story = _citizen_story(case)
    return {
        "queues": QUEUES,
        "map_settings": {
            "tiles": settings.TOWNHALL_MAP_TILE_URL,
            "attribution": settings.TOWNHALL_MAP_ATTRIBUTION,
        },
        "case": case,
        "events": events,
        "photos": photos,
        "answers": _answers(case),
        "story": story,
        "can_export_resident": _may_offer_export(user, case, story),
        "sla": _remaining(case, now),
        "now": now,
        "can_work": can_work,
        "can_note": can_note,
        "can_status": access_can(user, Action.WORK, case)
        and any(s != CaseStatus.DUPLICATE for s in allowed_next(case.status)),
        "can_assign": access_can(user, Action.ASSIGN, case) and case.status in OPEN_STATUSES,
        "note_form": forms.get("note_form") or _note_form(request, case),
        "canned": canned_for(case) if can_note else [],
        "can_supervise": access_can(user, Action.SUPERVISE, case) and case.status in OPEN_STATUSES,
        "due_form": forms.get("due_form") or DueForm(),
        "transfer_form": forms.get("transfer_form")
        or TransferForm(departments=transfer_departments(case)),
        "time_form": forms.get("time_form") or TimeForm(),
        "split_form": forms.get("split_form") or SplitForm(services=service_choices_for_case(case)),
        "split_asking": forms.get("split_asking", ""),
        "minutes_spent": case_minutes_spent(case_id=case.pk),
        "watchers": case_watchers(case),
        "status_form": forms.get("status_form") or StatusForm(current=case.status),
        "assign_form": forms.get("assign_form")
        or AssignForm(
            initial={"assignee": case.assignee_id or ""}, members=department_members(case)
        ),
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
        # triage moves the case within its own council: that council's services only
        "triage_services": service_choices_for_case(case) if triage else [],
        "inbound": list(messages_for_case(case=case)[:50]),
        "frustration": case_frustration_get(case_id=case.pk),
        "frustration_threshold": settings.TOWNHALL_EXPERIENCE.frustration_threshold,
        **photo_context(case, triage, has_photos=bool(photos)),
        **forwarding_context(user, case),
    }


def _note_form(request: HttpRequest, case: Case) -> NoteForm:
    """An empty note form, or one filled from the canned response chosen (?canned=id)."""
    chosen = request.GET.get("canned", "")
    if chosen.isdigit():
        canned = next((c for c in canned_for(case) if c.pk == int(chosen)), None)
        if canned is not None:
            text = canned.render(canned_values(case, staff_of(request)))
            visibility = "public" if canned.public else "internal"
            return NoteForm(initial={"text": text, "visibility": visibility})
    return NoteForm()


def canned_values(case: Case, user: StaffUser) -> dict[str, str]:
    reporter = case.reporter
    return {
        "name": (reporter.display_name if reporter else "") or _("resident"),
        "reference": case.reference,
        "service": case.service_type.name,
        "status": str(CaseStatus(case.status).label),
        "expected_date": long_date(case.expected_on),
        "staff_name": user.get_full_name() or user.get_username(),
    }


def failed(request: HttpRequest, case: Case, **forms: Any) -> HttpResponse:
    """The case page again, with the form that failed and its errors (400)."""
    return render(request, "console/case.html", case_context(request, case, **forms), status=400)


@require_GET
@staff_required
def case_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request, case_id)
    if case.reporter_id is not None:  # the page shows the resident's contacts and requests
        security_event(
            SecurityEventKind.RESIDENT_VIEWED,
            request=request,
            subject=f"citizen:{case.reporter_id}",
            detail={"via": "console case", "case": case.reference},
        )
    return render(request, "console/case.html", case_context(request, case))
