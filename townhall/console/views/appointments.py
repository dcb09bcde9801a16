"""The caseworker's appointments (issue 21): the day's list per office, and one
appointment with everything known already (the case, its answers, the resident's other
requests and contacts on every channel, the history, eligibility with its explanation,
photos and documents), so nothing is asked twice; then the outcome or the no-show.

Access follows the case: an appointment whose case this member of staff may not see is a
404, like the case.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from townhall.appointments.eligibility import eligibility_for
from townhall.appointments.selectors import (
    appointment_by_public_id,
    appointment_is_live,
    day_list,
    offices_for,
)
from townhall.appointments.services import appointment_outcome_record
from townhall.cases.access import Action, access_can, access_cases
from townhall.cases.selectors import case_events_personal_attach
from townhall.console.queues import QUEUES
from townhall.console.selectors import case_history, case_photos, staff_jurisdiction_ids
from townhall.console.views.case_page import _answers, _citizen_story
from townhall.console.views.common import case_or_404, require, staff_of, staff_required
from townhall.core import clock
from townhall.core.errors import DomainError
from townhall.intake.selectors import messages_for_case


class OutcomeForm(forms.Form):
    attended = forms.TypedChoiceField(
        label=gettext_lazy("Did the resident come?"),
        choices=[("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No, they did not come"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Say whether the resident came.")},
    )
    outcome = forms.CharField(
        label=gettext_lazy("What was decided"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


def _day(value: str) -> dt.date | None:
    if not value:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(value[:10]) if len(value) == 10 else None
    except ValueError:
        return None


@require_GET
@staff_required
def appointments_day_view(request: HttpRequest) -> HttpResponse:
    """?office=<id>&day=YYYY-MM-DD: the office's appointments that day (default: today)."""
    offices = list(offices_for(staff_jurisdiction_ids(request.user)))
    errors: list[str] = []
    day = _day(request.GET.get("day", ""))
    if day is None:
        errors.append(_("Enter the day as YYYY-MM-DD, for example 2026-12-03."))
        day = timezone.localdate()
    chosen = request.GET.get("office", "")
    office = next((o for o in offices if str(o.pk) == chosen), None)
    if chosen and office is None:
        errors.append(_("Choose an office from the list."))
    office = office or (offices[0] if offices else None)
    rows = day_list(office=office, day=day) if office is not None else []
    visible = set(
        access_cases(request.user)
        .filter(pk__in=[a.case_id for a in rows])
        .values_list("pk", flat=True)
    )
    context = {
        "queues": QUEUES,
        "offices": offices,
        "office": office,
        "day": day,
        "previous": day - dt.timedelta(days=1),
        "next": day + dt.timedelta(days=1),
        "rows": [a for a in rows if a.case_id in visible],
        "errors": errors,
    }
    return render(request, "console/appointments/day.html", context, status=400 if errors else 200)


def _appointment_or_404(request: HttpRequest, public_id: Any) -> Any:
    appointment = appointment_by_public_id(public_id)
    if appointment is None:
        raise Http404
    appointment.case = case_or_404(request, appointment.case_id)  # 404 unless theirs to see
    return appointment


def _page(
    request: HttpRequest, appointment: Any, form: OutcomeForm, status: int = 200
) -> HttpResponse:
    case = appointment.case
    context = {
        "queues": QUEUES,
        "appointment": appointment,
        "case": case,
        "answers": _answers(case),
        "story": _citizen_story(case),
        "events": case_events_personal_attach(case_history(case, limit=50)),
        "photos": case_photos(case),
        "inbound": list(messages_for_case(case=case)[:50]),
        "eligibility": eligibility_for(
            appointment, on=timezone.localdate(), language=request.LANGUAGE_CODE or "en"
        ),
        "form": form,
        "may_record": appointment_is_live(appointment)
        and access_can(request.user, Action.WORK, case),
    }
    return render(request, "console/appointments/appointment.html", context, status=status)


@require_GET
@staff_required
def appointment_view(request: HttpRequest, public_id: Any) -> HttpResponse:
    return _page(request, _appointment_or_404(request, public_id), OutcomeForm())


@require_POST
@staff_required
def appointment_outcome_view(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Record that the resident came (and what was decided) or did not come."""
    appointment = _appointment_or_404(request, public_id)
    require(request, Action.WORK, appointment.case)  # seeing a case is not working it
    form = OutcomeForm(request.POST)
    if form.is_valid():
        try:
            appointment_outcome_record(
                appointment=appointment,
                attended=form.cleaned_data["attended"],
                outcome=form.cleaned_data["outcome"],
                actor=staff_of(request),
                now=clock.now(),
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Outcome recorded."))
            return redirect("console:appointment", public_id=appointment.public_id)
    return _page(request, appointment, form, status=400)
