"""Citizen-facing pages: the service catalogue and tracking a request by its reference."""

from __future__ import annotations

from itertools import groupby

from django import forms
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from townhall.cases.errors import CaseNotFound
from townhall.cases.selectors import case_get_by_reference, case_public_timeline
from townhall.catalog.selectors import service_type_list


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
            context.update(case=case, timeline=case_public_timeline(case=case))
    elif request.GET:
        status = 400
    return render(request, "portal/track.html", context, status=status)


@require_GET
def health_view(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})
