"""Explicit mapping from Townhall's catalogue and cases to GeoReport v2 fields.

Public data only: never contact details, internal notes or assignees; IDs are strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from townhall.cases.lifecycle import OPEN_STATUSES
from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.catalog.models import AttributeDefinition, Jurisdiction, ServiceType
from townhall.open311.render import Open311Error


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


def _iso(value: datetime | None, tz: tzinfo) -> str | None:
    return value.astimezone(tz).isoformat(timespec="seconds") if value else None


def cases_for_georeport(qs: QuerySet[Case]) -> QuerySet[Case]:
    """Return `qs` with what a GeoReport request needs, in a constant number of queries."""
    latest_note = (
        CaseEvent.objects.filter(case=OuterRef("pk"), public=True, kind__in=NOTE_KINDS)
        .annotate(note=_note_text())
        .exclude(note="")
        .order_by("-seq")
        .values("note")[:1]
    )
    return qs.select_related("service_type", "department").annotate(
        status_notes=Subquery(latest_note), service_name=F("service_type__name")
    )


# Public events whose words explain the current status (GeoReport `status_notes`).
NOTE_KINDS = (CaseEventKind.STATUS_CHANGED, CaseEventKind.PUBLIC_UPDATE, CaseEventKind.REOPENED)


def _note_text() -> Coalesce:
    return Coalesce(KeyTextTransform("note", "data"), KeyTextTransform("text", "data"))


def request_from_case(case: Case, *, tz: tzinfo) -> dict[str, Any]:
    """Return a GeoReport service request (case annotated by `cases_for_georeport`), its
    times in the jurisdiction's time zone `tz`."""
    return {
        "service_request_id": case.external_id or case.reference,
        "status": open311_status(case.status),
        "status_notes": getattr(case, "status_notes", None) or None,
        "service_name": case.service_type.name,
        "service_code": case.service_type.code,
        "description": case.description or None,
        "agency_responsible": case.department.name,
        "service_notice": None,
        "requested_datetime": _iso(case.opened_at, tz),
        "updated_datetime": _iso(case.updated_at, tz),
        "expected_datetime": _iso(case.due_at, tz),
        "address": case.address or None,
        "address_id": case.address_id or None,
        "zipcode": None,
        "lat": case.lat,
        "long": case.long,
        "media_url": case.media_url or None,
    }


def _history(case_ids: list[int], tz: tzinfo) -> dict[int, list[dict[str, Any]]]:
    """Return each case's public events as GeoReport extension notes, in one query."""
    notes: dict[int, list[dict[str, Any]]] = {case_id: [] for case_id in case_ids}
    events = (
        CaseEvent.objects.filter(case_id__in=case_ids, public=True)
        .annotate(note=_note_text(), to_status=KeyTextTransform("to", "data"))
        .order_by("case_id", "seq")
        .values_list("case_id", "kind", "at", "note", "to_status")
    )
    for case_id, kind, at, note, to_status in events:
        notes[case_id].append(
            {
                "datetime": _iso(at, tz),
                "type": kind,
                "summary": str(CaseEventKind(kind).label),
                "status": to_status or None,
                "description": note or None,
            }
        )
    return notes


def requests_from_cases(
    cases: Sequence[Case], *, jurisdiction: Jurisdiction, extensions: bool = False
) -> list[dict[str, Any]]:
    """Return GeoReport service requests for `cases` (annotated by `cases_for_georeport`).

    With `extensions`, each also carries `extended_attributes`: the channel it came in by,
    the detailed status behind GeoReport's open/closed, and its public history as `notes`
    (the shape Chicago's and Boston's extensions use), fetched in one more query.
    """
    tz = ZoneInfo(jurisdiction.timezone)
    items = [request_from_case(case, tz=tz) for case in cases]
    if extensions:
        history = _history([case.pk for case in cases], tz)
        for case, item in zip(cases, items, strict=True):
            item["extended_attributes"] = {
                "channel": case.channel,
                "detailed_status": case.status,
                "notes": history[case.pk],
            }
    return items


# XML element names for the extension's lists: `<notes><note>…</note></notes>`.
ITEM_NAMES = {"notes": "note"}


def extensions_wanted(request: HttpRequest) -> bool:
    """Return whether the caller asked for the extended attributes (`extensions=true`)."""
    raw = request.GET.get("extensions", "").strip().lower()
    if raw in {"", "false", "0", "no"}:
        return False
    if raw in {"true", "1", "yes"}:
        return True
    raise Open311Error(400, "extensions must be true or false.")
