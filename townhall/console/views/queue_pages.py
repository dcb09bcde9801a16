"""The queues, bulk assignment from a queue, finding a case by reference, saved views."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from townhall.cases.access import Action, access_can, access_case_get, access_cases
from townhall.cases.errors import CaseNotFound, InvalidCaseInput
from townhall.cases.lifecycle import OPEN_STATUSES
from townhall.cases.selectors import case_get_by_reference
from townhall.cases.services import case_assign
from townhall.console.forms import BulkForm, FindForm, SavedViewForm
from townhall.console.queues import QUEUES, QueueFilterForm, queue_counts, queue_page
from townhall.console.selectors import saved_views_for, service_choices_for_staff
from townhall.console.services import saved_view_delete, saved_view_save
from townhall.console.views.common import require, staff_of, staff_required
from townhall.core import clock
from townhall.core.web import safe_next


@require_GET
@staff_required
def queue_view(request: HttpRequest, slug: str = "mine") -> HttpResponse:
    queue = QUEUES.get(slug)
    if queue is None:
        raise Http404
    now = clock.now()
    services = service_choices_for_staff(request.user, own_departments=True)
    form = QueueFilterForm(request.GET or None, services=services)
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
        "saved_views": saved_views_for(staff_of(request)),
        "saved_form": SavedViewForm(),
    }
    if getattr(request, "htmx", False):
        return render(request, "console/_queue_table.html", context)
    return render(request, "console/queue.html", context, status=400 if form.errors else 200)


@require_POST
@staff_required
def bulk_view(request: HttpRequest) -> HttpResponse:
    require(request, Action.WORK)
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
    to = staff_of(request) if form.cleaned_data["action"] == "take" else None
    done = 0
    for case in chosen:
        try:
            case_assign(case=case, assignee=to, actor=staff_of(request))
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
    saved_view_save(user=staff_of(request), name=form.cleaned_data["name"], queue=slug, query=query)
    messages.success(request, _("View saved."))
    return redirect(back)


@require_POST
@staff_required
def view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    if not saved_view_delete(user=staff_of(request), view_id=view_id):
        raise Http404
    messages.success(request, _("View removed."))
    return redirect("console:home")
