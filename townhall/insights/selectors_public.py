"""What residents see of everyone's reports (the portal's /reports/ map and list).

Public fields only, the same ones a case's public tracking page and Open311 show: its
reference, service, status, dates, the address and point, and its public text (the summary
staff approved, or the resident's words with personal details masked; never the words as
received). Cases of personal services (about someone's home) never appear. The area is the
one the case's fact records (ward, district or postcode sector).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.db.models import F, QuerySet
from django.utils import timezone

from townhall.cases.lifecycle import OPEN_STATUSES, CaseStatus
from townhall.cases.models import Case, reference_for
from townhall.catalog.models import ServiceType
from townhall.insights.models import CaseFact

PUBLIC_STATUSES = ("open", "closed")
MAP_LIMIT = 500


@dataclass(frozen=True)
class PublicFilters:
    area: str = ""
    service_type_id: int | None = None
    status: str = ""  # "", "open" or "closed"


def public_reports(filters: PublicFilters) -> QuerySet[Case]:
    """The reports anyone may see matching `filters`, newest first."""
    qs = Case.objects.filter(service_type__personal=False)
    if filters.service_type_id:
        qs = qs.filter(service_type_id=filters.service_type_id)
    if filters.status == "open":
        qs = qs.filter(status__in=sorted(OPEN_STATUSES))
    elif filters.status == "closed":
        qs = qs.exclude(status__in=sorted(OPEN_STATUSES))
    if filters.area:
        qs = qs.filter(fact__area=filters.area)
    return qs.order_by("-opened_at", "-pk")


def public_report_rows(qs: QuerySet[Case]) -> list[dict[str, Any]]:
    """Rows of public fields for (a page of) `public_reports`."""
    rows = qs.annotate(service_name=F("service_type__name"), area=F("fact__area")).values(
        "id",
        "opened_at",
        "status",
        "service_name",
        "public_summary",
        "public_description",
        "address",
        "lat",
        "long",
        "area",
    )
    out = []
    for row in rows:
        opened = timezone.localtime(row["opened_at"])
        out.append(
            {
                "reference": reference_for(case_id=row["id"], opened_at_year=opened.year),
                "opened_at": row["opened_at"],
                "status": row["status"],
                "status_label": str(CaseStatus(row["status"]).label),
                "open": row["status"] in OPEN_STATUSES,
                "service": row["service_name"],
                "text": row["public_summary"] or row["public_description"],
                "address": row["address"],
                "lat": row["lat"],
                "long": row["long"],
                "area": row["area"] or "",
            }
        )
    return out


def public_map_points(qs: QuerySet[Case], *, limit: int = MAP_LIMIT) -> list[dict[str, Any]]:
    """The newest `limit` reports with a point: reference, service, status, lat, long."""
    rows = (
        qs.filter(lat__isnull=False, long__isnull=False)
        .annotate(service_name=F("service_type__name"))
        .values("id", "opened_at", "service_name", "status", "lat", "long")[:limit]
    )
    return [
        {
            "reference": reference_for(
                case_id=r["id"], opened_at_year=timezone.localtime(r["opened_at"]).year
            ),
            "service": r["service_name"],
            "status": str(CaseStatus(r["status"]).label),
            "lat": round(r["lat"], 5),
            "long": round(r["long"], 5),
        }
        for r in rows
    ]


def public_filter_choices() -> dict[str, list[tuple[Any, str]]]:
    """Services that may be published, and the areas their reports are in."""
    services = ServiceType.objects.filter(personal=False).order_by("name")
    areas = (
        CaseFact.objects.filter(
            source="live", personal=False, case__isnull=False, case__service_type__personal=False
        )
        .exclude(area="")
        .values_list("area", flat=True)
        .distinct()
        .order_by("area")[:500]
    )
    return {
        "service": list(services.values_list("pk", "name")),
        "area": [(a, a) for a in areas],
    }


def open_data_cases(
    *,
    service_type_ids: Collection[int] | None,
    status: str,
    opened_from: dt.datetime,
    opened_to: dt.datetime,
    updated_after: dt.datetime | None = None,
    updated_before: dt.datetime | None = None,
) -> QuerySet[Case]:
    """The cases of the open-data export (open311.open_data): of `service_type_ids` (None:
    every service), never of a personal service; `status` "", "open" or "closed"."""
    qs = Case.objects.filter(service_type__personal=False)
    if service_type_ids is not None:
        qs = qs.filter(service_type_id__in=sorted(service_type_ids))
    if status == "open":
        qs = qs.filter(status__in=sorted(OPEN_STATUSES))
    elif status == "closed":
        qs = qs.exclude(status__in=sorted(OPEN_STATUSES))
    qs = qs.filter(opened_at__gte=opened_from, opened_at__lte=opened_to)
    if updated_after:
        qs = qs.filter(updated_at__gte=updated_after)
    if updated_before:
        qs = qs.filter(updated_at__lte=updated_before)
    return qs
