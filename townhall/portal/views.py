"""Citizen-facing pages: the service catalogue and tracking a request by its reference."""

from __future__ import annotations

from itertools import groupby

from django import forms
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from townhall.cases.errors import CaseNotFound
from townhall.cases.lifecycle import OPEN_STATUSES, CaseStatus
from townhall.cases.models import CaseEvent, CaseEventKind
from townhall.cases.selectors import case_get_by_reference, case_public_timeline
from townhall.catalog.selectors import service_type_list
from townhall.core.errors import NotFound
from townhall.notify.services import opt_out_by_token

_STATUS_LABELS = dict(CaseStatus.choices)


def timeline_text(event: CaseEvent) -> str:
    """Return what a resident reads for one public event of their request."""
    data = event.data
    if event.kind == CaseEventKind.OPENED:
        text = "We received your request."
    elif event.kind == CaseEventKind.ACKNOWLEDGED:
        text = "We confirmed your request and set a date to finish by."
    elif event.kind in {CaseEventKind.STATUS_CHANGED, CaseEventKind.REOPENED}:
        text = f"Status: {_STATUS_LABELS.get(data.get('to', ''), data.get('to', ''))}."
    elif event.kind == CaseEventKind.MERGED:
        text = f"We are handling this together with request {data.get('into', '')}."
    else:
        text = ""
    note = data.get("note") or data.get("text") or ""
    return f"{text} {note}".strip()


class TrackForm(forms.Form):
    reference = forms.CharField(
        label="Your reference number",
        help_text="It looks like TH-26-004211 and is in your acknowledgement.",
        max_length=40,
    )


@require_GET
def home_view(request: HttpRequest) -> HttpResponse:
    services = list(service_type_list())
    groups = [(group, list(items)) for group, items in groupby(services, key=lambda s: s.group)]
    return render(request, "portal/home.html", {"groups": groups, "form": TrackForm()})


@require_GET
def track_view(request: HttpRequest) -> HttpResponse:
    form = TrackForm(request.GET or None)
    context: dict[str, object] = {"form": form}
    status = 200
    if form.is_valid():
        try:
            case = case_get_by_reference(reference=form.cleaned_data["reference"])
        except CaseNotFound:
            form.add_error(
                "reference",
                "We could not find a request with that reference. Check it and try again.",
            )
            status = 404
        else:
            timeline = [(e.at, timeline_text(e)) for e in case_public_timeline(case=case)]
            today = timezone.localdate()
            late = case.status in OPEN_STATUSES and (
                case.breached_at is not None
                or (case.expected_on is not None and case.expected_on < today)
            )
            context.update(
                case=case, timeline=timeline, late=late, open=case.status in OPEN_STATUSES
            )
    elif request.GET:
        status = 400
    return render(request, "portal/track.html", context, status=status)


@require_GET
def health_view(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


@csrf_exempt  # mail clients post RFC 8058 one-click requests; the signed token is the proof
@require_http_methods(["GET", "POST"])
def opt_out_view(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        return render(request, "portal/opt_out.html", {"token": token, "done": False})
    try:
        opt_out = opt_out_by_token(token=token)
    except NotFound:
        return render(request, "portal/opt_out.html", {"invalid": True}, status=404)
    return render(
        request, "portal/opt_out.html", {"done": True, "channel": opt_out.get_channel_display()}
    )
