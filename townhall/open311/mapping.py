"""Explicit mapping from Townhall's catalogue and cases to GeoReport v2 fields.

Public data only: never contact details, internal notes or assignees; IDs are strings.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.utils import timezone

from townhall.cases.lifecycle import OPEN_STATUSES
from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.catalog.models import AttributeDefinition, ServiceType


def open311_status(status: str) -> str:
    """Return GeoReport's two statuses: open while we work on it, closed once finished."""
    return "open" if status in OPEN_STATUSES else "closed"


def service_from_type(service: ServiceType, *, has_attributes: bool) -> dict[str, Any]:
    """Return a GeoReport service."""
    return {
        "service_code": service.code,
        "service_name": service.name,
        "description": service.description or None,
        "metadata": has_attributes,
        "type": service.open311_type,
        "keywords": ", ".join(service.keywords) or None,
        "group": service.group.name,
    }


def attribute_from_definition(attribute: AttributeDefinition) -> dict[str, Any]:
    """Return a GeoReport attribute of a service definition."""
    return {
        "variable": attribute.variable,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": attribute.datatype_description or None,
        "order": attribute.order,
        "description": attribute.description,
        "values": [{"key": v["key"], "name": v["name"]} for v in attribute.values],
    }


def _iso(value: Any) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def cases_for_georeport(qs: QuerySet[Case]) -> QuerySet[Case]:
    """Return `qs` with what a GeoReport request needs, in a constant number of queries."""
    latest_note = (
        CaseEvent.objects.filter(
            case=OuterRef("pk"),
            public=True,
            kind__in=[
                CaseEventKind.STATUS_CHANGED,
                CaseEventKind.PUBLIC_UPDATE,
                CaseEventKind.REOPENED,
            ],
        )
        .annotate(note=Coalesce(KeyTextTransform("note", "data"), KeyTextTransform("text", "data")))
        .exclude(note="")
        .order_by("-seq")
        .values("note")[:1]
    )
    return qs.select_related("service_type", "department").annotate(
        status_notes=Subquery(latest_note), service_name=F("service_type__name")
    )


def request_from_case(case: Case) -> dict[str, Any]:
    """Return a GeoReport service request (case annotated by `cases_for_georeport`)."""
    return {
        "service_request_id": case.reference,
        "status": open311_status(case.status),
        "status_notes": getattr(case, "status_notes", None) or None,
        "service_name": case.service_type.name,
        "service_code": case.service_type.code,
        "description": case.description or None,
        "agency_responsible": case.department.name,
        "service_notice": None,
        "requested_datetime": _iso(case.opened_at),
        "updated_datetime": _iso(case.updated_at),
        "expected_datetime": _iso(case.due_at),
        "address": case.address or None,
        "address_id": case.address_id or None,
        "zipcode": None,
        "lat": case.lat,
        "long": case.long,
        "media_url": None,
    }
