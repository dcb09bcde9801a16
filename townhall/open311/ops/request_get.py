"""GET requests/{service_request_id}: one service request (as a list, per the spec)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from townhall.cases.errors import CaseNotFound
from townhall.cases.models import Case
from townhall.cases.selectors import case_get_by_reference
from townhall.open311.jurisdiction import jurisdiction_for
from townhall.open311.mapping import (
    ITEM_NAMES,
    cases_for_georeport,
    extensions_wanted,
    requests_from_cases,
)
from townhall.open311.render import Open311Error, open311_view, respond


@require_GET
@open311_view
def request_get_view(request: HttpRequest, service_request_id: str, *, fmt: str) -> HttpResponse:
    jurisdiction = jurisdiction_for(request)
    try:
        found = case_get_by_reference(reference=service_request_id)
    except CaseNotFound as exc:
        raise Open311Error(404, f"service_request_id {service_request_id!r} not found.") from exc
    row = cases_for_georeport(
        # Reports about someone's home are never published: as if they did not exist.
        Case.objects.filter(
            pk=found.pk, service_type__jurisdiction=jurisdiction, service_type__personal=False
        ),
        jurisdiction=jurisdiction,
    ).first()
    if row is None:
        raise Open311Error(404, f"service_request_id {service_request_id!r} not found.")
    return respond(
        fmt,
        requests_from_cases(
            [row], jurisdiction=jurisdiction, extensions=extensions_wanted(request)
        ),
        root="service_requests",
        item="request",
        item_names=ITEM_NAMES,
    )
