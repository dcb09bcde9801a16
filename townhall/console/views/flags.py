"""The supervisors' flags: residents whose request is going badly (a high frustration
index) or who answered a survey with a low score, worst first, to look at and handle.

Who (docs/frustration.md): staff with the supervise permission (supervisors, department
admins, council admins), for the cases of their departments only; a flag on another
department's case is the same 404 as one that does not exist. Caseworkers and agents get
403, like the team page. Handling is a POST that redirects back (a reload never repeats
it); a bad outcome gets the page again with the error beside the field (400).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from townhall.cases.access import Action
from townhall.console.queues import QUEUES
from townhall.console.views.common import require, staff_of, staff_required
from townhall.core.errors import ValidationFailed
from townhall.experience.selectors_frustration import (
    FLAG_KINDS,
    flag_departments,
    flag_visible_get,
    flags_open,
)
from townhall.experience.services_frustration import flag_handle


class FlagHandleForm(forms.Form):
    outcome = forms.CharField(
        label=gettext_lazy("What was done"),
        help_text=gettext_lazy("For example: called the resident, crew booked for Tuesday."),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": gettext_lazy("Say what was done before closing the flag."),
            "max_length": gettext_lazy("At most 500 characters."),
        },
    )


def _filters(request: HttpRequest) -> tuple[str, int | None, list[str]]:
    kind = request.GET.get("kind", "")
    department = request.GET.get("department", "")
    errors = []
    if kind and kind not in dict(FLAG_KINDS):
        errors.append(_("Choose a kind of flag from the list."))
        kind = ""
    department_id = None
    if department:
        if department.isdigit() and len(department) < 10:
            department_id = int(department)
        else:
            errors.append(_("Choose a department from the list."))
    return kind, department_id, errors


def _page(
    request: HttpRequest,
    *,
    forms_by_flag: dict[int, FlagHandleForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    kind, department_id, errors = _filters(request)
    rows = flags_open(request.user, kind=kind, department_id=department_id)
    forms_by_flag = forms_by_flag or {}
    context: dict[str, Any] = {
        "queues": QUEUES,
        "rows": [(row, forms_by_flag.get(row.flag.pk) or FlagHandleForm()) for row in rows],
        "kinds": FLAG_KINDS,
        "departments": flag_departments(request.user),
        "kind": kind,
        "department_id": department_id,
        "filter_errors": errors,
    }
    return render(request, "console/flags.html", context, status=400 if errors else status)


@require_GET
@staff_required
def flags_view(request: HttpRequest) -> HttpResponse:
    """Open flags of the supervisor's departments, worst first; ?kind= and ?department=."""
    require(request, Action.SUPERVISE)
    return _page(request)


@require_POST
@staff_required
def flag_handle_view(request: HttpRequest, flag_id: int) -> HttpResponse:
    """Close a flag with what was done; back to the queue."""
    require(request, Action.SUPERVISE)
    flag = flag_visible_get(request.user, flag_id)
    if flag is None:
        raise Http404
    form = FlagHandleForm(request.POST)
    if form.is_valid():
        try:
            flag_handle(flag=flag, user=staff_of(request), outcome=form.cleaned_data["outcome"])
        except ValidationFailed as exc:
            form.add_error("outcome", exc.message)
        else:
            messages.success(
                request,
                _("Flag on %(reference)s handled.") % {"reference": flag.case.reference},
            )
            return redirect("console:flags")
    return _page(request, forms_by_flag={flag.pk: form}, status=400)
