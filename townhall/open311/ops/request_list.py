"""GET requests: service requests filtered as the spec says, newest first.

Extensions: `page` and `page_size` (≤ 1,000), `updated_after` and `updated_before`, and
`extensions=true` for each request's channel, detailed status and public history.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from townhall.cases.lifecycle import OPEN_STATUSES
from townhall.cases.models import Case
from townhall.cases.selectors import reference_set
from townhall.catalog.selectors import catalog_labels
from townhall.open311.jurisdiction import jurisdiction_for, serves_several
from townhall.open311.mapping import ITEM_NAMES, cases_for_georeport, requests_from_cases
from townhall.open311.params import RequestFilterParams, RequestListParams, params_parse
from townhall.open311.render import open311_view, respond


@require_GET
@open311_view
def request_list_view(request: HttpRequest, *, fmt: str) -> HttpResponse:
    jurisdiction = jurisdiction_for(request)
    labels = catalog_labels()
    qs = Case.objects.all()
    if labels.personal:  # reports about someone's home are never published
        qs = qs.exclude(service_type_id__in=sorted(labels.personal))
    if serves_several():
        mine = [pk for pk, s in labels.services.items() if s[2] == jurisdiction.pk]
        qs = qs.filter(service_type_id__in=mine)
    # The spec: a list of ids overrides every other filter (only paging is read with it).
    ids = request.GET.get("service_request_id", "").replace(",", "").strip()
    params = params_parse(RequestListParams if ids else RequestFilterParams, request.GET)
    page_size, page, extensions = params.page_size, params.page, params.extensions
    references = list(params.service_request_id)
    if references:
        wanted = reference_set(references)
        named = cases_for_georeport(qs.filter(wanted.q), jurisdiction=jurisdiction)
        rows = [
            row
            for row in named.order_by("-opened_at", "-pk")
            if wanted.names(
                case_id=row["id"], opened_year=row["opened_year"], external_id=row["external_id"]
            )
        ]
        return respond(
            fmt,
            requests_from_cases(rows, jurisdiction=jurisdiction, extensions=extensions),
            root="service_requests",
            item="request",
            item_names=ITEM_NAMES,
        )
    filters = params
    assert isinstance(filters, RequestFilterParams)
    codes = set(filters.service_code)
    if codes:
        qs = qs.filter(
            service_type_id__in=[
                pk
                for pk, (code, _, owner) in labels.services.items()
                if code in codes and owner == jurisdiction.pk and pk not in labels.personal
            ]
        )
    statuses = list(filters.status)
    if statuses == ["open"]:
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif statuses == ["closed"]:
        qs = qs.exclude(status__in=OPEN_STATUSES)
    start, end = filters.opened_between(timezone.now())
    qs = qs.filter(opened_at__gte=start, opened_at__lte=end)
    if filters.updated_after:
        qs = qs.filter(updated_at__gte=filters.updated_after)
    if filters.updated_before:
        qs = qs.filter(updated_at__lte=filters.updated_before)
    offset = (page - 1) * page_size
    newest = cases_for_georeport(qs, jurisdiction=jurisdiction).order_by("-opened_at", "-pk")
    page_cases = list(newest[offset : offset + page_size])
    return respond(
        fmt,
        requests_from_cases(page_cases, jurisdiction=jurisdiction, extensions=extensions),
        root="service_requests",
        item="request",
        item_names=ITEM_NAMES,
    )
