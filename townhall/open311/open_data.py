"""Open data: every public service request as GeoReport v2 requests, in JSON or CSV.

`/open-data/requests.json` and `/open-data/requests.csv` answer what `GET requests` of the
Open311 API answers, built by the same mapping (`open311.mapping`): public fields only (the
description is the masked text or the summary staff approved; never names, contacts,
notes or assignees), and never a case of a personal service. The parameters are the API's
(`start_date`, `end_date`: at most 90 days, the last 90 without; `status`, `service_code`,
`page`, `page_size` up to 1,000), so a file is at most 1,000 rows: a `Link: rel="next"`
header names the next page. CSV cells that a spreadsheet would run are escaped.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.views.decorators.http import require_GET

from townhall.catalog.selectors import catalog_labels
from townhall.core.ratelimit import RateLimited, rate_limit_hit
from townhall.insights.exports import export_response
from townhall.insights.selectors_public import open_data_cases
from townhall.open311.jurisdiction import jurisdiction_for, serves_several
from townhall.open311.mapping import cases_for_georeport, requests_from_cases
from townhall.open311.params import RequestFilterParams, params_parse
from townhall.open311.render import Open311Error, Open311Errors, error_response, respond, too_many

FORMATS = ("json", "csv")
CSV_COLUMNS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)


def _public_cases(jurisdiction_pk: int, params: RequestFilterParams) -> QuerySet[Any]:
    labels = catalog_labels()
    # Reports about someone's home are never published, as in GET requests.
    services: set[int] | None = None
    if serves_several():
        services = {pk for pk, s in labels.services.items() if s[2] == jurisdiction_pk}
    codes = set(params.service_code)
    if codes:
        services = {
            pk
            for pk, (code, _, owner) in labels.services.items()
            if code in codes and owner == jurisdiction_pk
        } & (services if services is not None else set(labels.services))
    if services is not None:
        services -= set(labels.personal)
    statuses = list(params.status)
    start, end = params.opened_between(timezone.now())
    return open_data_cases(
        service_type_ids=services,
        status=statuses[0] if len(statuses) == 1 else "",
        opened_from=start,
        opened_to=end,
        updated_after=params.updated_after,
        updated_before=params.updated_before,
    )


def _errors(fmt: str, errors: list[Open311Error]) -> HttpResponse:
    if fmt == "json":
        return error_response("json", errors)
    body = "code,description\n" + "".join(
        f'{e.code},"{e.description.replace(chr(34), chr(39))}"\n' for e in errors
    )
    response = HttpResponse(body, status=errors[0].status, content_type="text/csv; charset=utf-8")
    if errors[0].retry_after is not None:
        response["Retry-After"] = str(errors[0].retry_after)
    return response


@require_GET
def open_data_view(request: HttpRequest, fmt: str) -> HttpResponseBase:
    if fmt not in FORMATS:
        return _errors("json", [Open311Error(404, f"Unknown format {fmt!r}: use .json or .csv.")])
    try:
        rate_limit_hit(request, "open311_read")
        if any("\x00" in k or "\x00" in v for k, v in request.GET.items()):
            raise Open311Error(400, "A parameter contains a NUL character.")
        jurisdiction = jurisdiction_for(request)
        params = params_parse(RequestFilterParams, request.GET)
    except RateLimited as limited:
        return _errors(fmt, [too_many(limited)])
    except Open311Error as exc:
        return _errors(fmt, [exc])
    except Open311Errors as exc:
        return _errors(fmt, exc.errors)
    offset = (params.page - 1) * params.page_size
    newest = cases_for_georeport(
        _public_cases(jurisdiction.pk, params), jurisdiction=jurisdiction
    ).order_by("-opened_at", "-pk")
    rows = list(newest[offset : offset + params.page_size])
    items = requests_from_cases(rows, jurisdiction=jurisdiction)
    response: HttpResponseBase
    if fmt == "json":
        response = respond("json", items, root="service_requests", item="request")
    else:
        response = export_response(
            "csv",
            CSV_COLUMNS,
            ([item[c] for c in CSV_COLUMNS] for item in items),
            name=f"service-requests-page-{params.page}",
        )
    if len(rows) == params.page_size:
        following: dict[str, Any] = {**request.GET.dict(), "page": params.page + 1}
        response["Link"] = f'<{request.path}?{urlencode(following)}>; rel="next"'
    response["Access-Control-Allow-Origin"] = "*"
    return response
