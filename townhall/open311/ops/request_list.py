"""GET requests: service requests filtered as the spec says, newest first.

Extensions: `page` and `page_size` (≤ 1,000), `updated_after` and `updated_before`, and
`extensions=true` for each request's channel, detailed status and public history.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.http import require_GET

from townhall.cases.lifecycle import OPEN_STATUSES
from townhall.cases.models import Case
from townhall.cases.selectors import reference_set
from townhall.catalog.selectors import catalog_labels
from townhall.open311.jurisdiction import jurisdiction_for, serves_several
from townhall.open311.mapping import (
    ITEM_NAMES,
    cases_for_georeport,
    extensions_wanted,
    requests_from_cases,
)
from townhall.open311.render import Open311Error, open311_view, respond

MAX_WINDOW = timedelta(days=90)
MAX_PAGE = 1000


def _moment(request: HttpRequest, name: str) -> datetime | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    value = parse_datetime(raw)
    if value is None:
        day = parse_date(raw)
        if day is not None:
            value = datetime.combine(day, datetime.min.time())
    if value is None:
        raise Open311Error(
            400, f"{name} must be a W3C date-time such as 2026-11-23T08:00:00-05:00."
        )
    try:
        aware = value if timezone.is_aware(value) else timezone.make_aware(value)
        # Stored and compared in UTC: odd offsets such as +23:44 are valid ISO 8601 but
        # not valid PostgreSQL time zones.
        return aware.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise Open311Error(400, f"{name} is out of range.") from exc


def _int(request: HttpRequest, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise Open311Error(400, f"{name} must be a whole number from {low} to {high}.")
    return int(raw)


def _comma(request: HttpRequest, name: str) -> list[str]:
    return [part.strip() for part in request.GET.get(name, "").split(",") if part.strip()]


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
    references = _comma(request, "service_request_id")
    page_size = _int(request, "page_size", MAX_PAGE, low=1, high=MAX_PAGE)
    page = _int(request, "page", 1, low=1, high=1_000_000)
    extensions = extensions_wanted(request)
    if references:
        # The spec: a list of ids overrides every other filter.
        if len(references) > MAX_PAGE:
            raise Open311Error(400, f"Ask for at most {MAX_PAGE} service_request_id at once.")
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
    codes = set(_comma(request, "service_code"))
    if codes:
        qs = qs.filter(
            service_type_id__in=[
                pk
                for pk, (code, _, owner) in labels.services.items()
                if code in codes and owner == jurisdiction.pk and pk not in labels.personal
            ]
        )
    statuses = _comma(request, "status")
    if any(s not in {"open", "closed"} for s in statuses):
        raise Open311Error(400, "status must be open, closed or both (comma-separated).")
    if statuses == ["open"]:
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif statuses == ["closed"]:
        qs = qs.exclude(status__in=OPEN_STATUSES)
    start, end = _moment(request, "start_date"), _moment(request, "end_date")
    if start and end and end < start:
        raise Open311Error(400, "end_date is before start_date.")
    if start and end and end - start > MAX_WINDOW:
        raise Open311Error(400, "start_date and end_date may be at most 90 days apart.")
    if start is None and end is None:
        end = timezone.now()
    if start is None and end is not None:
        start = end - MAX_WINDOW
    if end is None and start is not None:
        end = start + MAX_WINDOW
    qs = qs.filter(opened_at__gte=start, opened_at__lte=end)
    updated_after, updated_before = (
        _moment(request, "updated_after"),
        _moment(request, "updated_before"),
    )
    if updated_after:
        qs = qs.filter(updated_at__gte=updated_after)
    if updated_before:
        qs = qs.filter(updated_at__lte=updated_before)
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
