"""Explicit mapping from Townhall's catalogue and cases to GeoReport v2 fields.

Public data only: never contact details, internal notes or assignees; IDs are strings.
The description is the case's public text (personal details masked when it was written, or
a summary staff approved), and cases of personal services are never served
(docs/security/public-data.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import NotSupportedError, connection
from django.db.models import CharField, Func, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, ExtractYear
from django.http import HttpRequest

from townhall.cases.lifecycle import OPEN_STATUSES
from townhall.cases.models import (
    Case,
    CaseEvent,
    CaseEventKind,
    CaseEventPersonal,
    reference_for,
)
from townhall.catalog.models import AttributeDefinition, Jurisdiction, ServiceType
from townhall.catalog.selectors import CatalogLabels, catalog_labels
from townhall.forwarding.selectors import forwarded_to_annotation
from townhall.open311.params import RequestListParams, params_parse


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


# The columns a GeoReport request is made of: rows are read as plain dicts (no model
# instances, no joins: names come from the cached catalogue), which keeps a page of 1,000
# cheap to build.
ROW_FIELDS = (
    "id",
    "external_id",
    "status",
    "service_type_id",
    "department_id",
    # Never `description` as received: its masked copy, or the summary staff approved.
    "public_description",
    "public_summary",
    "address",
    "address_id",
    "lat",
    "long",
    "media_url",
    "channel",
)
TIME_FIELDS = {"requested": "opened_at", "updated": "updated_at", "expected": "due_at"}
_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+\-/]+$")


class LocalIso(Func):
    """A timestamp as W3C text in a named time zone (`2026-01-17T19:03:41-05:00`), written
    by PostgreSQL: formatting a page of 1,000 requests in Python costs more than the query.
    Matches `datetime.astimezone(tz).isoformat(timespec="seconds")`, the form used elsewhere."""

    output_field = CharField()

    def __init__(self, expression: Any, zone: str) -> None:
        if not _ZONE_NAME.match(zone):
            raise ValueError(f"Not a time zone name: {zone!r}")
        super().__init__(expression)
        self.zone = zone

    def as_sql(
        self, compiler: Any, connection: Any, *args: Any, **extra: Any
    ) -> tuple[str, list[Any]]:
        if connection.vendor != "postgresql":
            raise NotSupportedError("LocalIso is written for PostgreSQL.")
        inner, inner_params = compiler.compile(self.source_expressions[0])
        # The zone is a checked name, so it can be a literal: no parameter bookkeeping for
        # the nine places the column appears.
        local = f"(({inner}) AT TIME ZONE '{self.zone}')"
        offset = f"extract(epoch from {local} - (({inner}) AT TIME ZONE 'UTC'))"
        length = f"(abs({offset}) * interval '1 second')"
        sql = (
            f"to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
            f"|| CASE WHEN {offset} < 0 THEN '-' ELSE '+' END "
            f"|| to_char({length}, 'HH24:MI') "
            f"|| CASE WHEN mod(abs({offset})::numeric, 60) <> 0 "
            f"THEN to_char({length}, ':SS') ELSE '' END"
        )
        return sql, list(inner_params) * sql.count(inner)


def cases_for_georeport(
    qs: QuerySet[Case], *, jurisdiction: Jurisdiction
) -> QuerySet[Case, dict[str, Any]]:
    """Return `qs` as rows with what a GeoReport request needs, the latest public note
    included (a subquery), so a page costs one query whatever its size. On PostgreSQL the
    times come formatted in the jurisdiction's zone; elsewhere as datetimes."""
    latest_note = (
        CaseEvent.objects.filter(case=OuterRef("pk"), public=True, kind__in=NOTE_KINDS)
        .annotate(note=_note_text())
        .exclude(note="")
        .order_by("-seq")
        .values("note")[:1]
    )
    qs = qs.annotate(
        status_notes=Subquery(latest_note),
        # References count years in the site's zone.
        opened_year=ExtractYear("opened_at", tzinfo=ZoneInfo(settings.TIME_ZONE)),
        # The body a forwarded case is with (issue 22), in the same query.
        forwarded_to=forwarded_to_annotation(),
    )
    if connection.vendor == "postgresql":
        qs = qs.annotate(
            **{
                f"{name}_iso": LocalIso(column, jurisdiction.timezone)
                for name, column in TIME_FIELDS.items()
            }
        )
        times = [f"{name}_iso" for name in TIME_FIELDS]
    else:
        times = list(TIME_FIELDS.values())
    return qs.values(*ROW_FIELDS, *times, "status_notes", "opened_year", "forwarded_to")


# Public events whose words explain the current status (GeoReport `status_notes`).
NOTE_KINDS = (CaseEventKind.STATUS_CHANGED, CaseEventKind.PUBLIC_UPDATE, CaseEventKind.REOPENED)


def _note_text() -> Coalesce:
    # The words are kept apart from the hashed payload (erasable, see cases.ledger); events
    # written before that keep them in `data`.
    kept = CaseEventPersonal.objects.filter(
        event=OuterRef("pk"), field__in=("note", "text")
    ).values("value")[:1]
    return Coalesce(
        Subquery(kept), KeyTextTransform("note", "data"), KeyTextTransform("text", "data")
    )


def request_from_case(
    row: Mapping[str, Any], *, tz: tzinfo, labels: CatalogLabels | None = None
) -> dict[str, Any]:
    """Return a GeoReport service request from a row of `cases_for_georeport`, its times
    in the jurisdiction's time zone `tz`."""
    labels = labels or catalog_labels()
    code, name, _ = labels.services[row["service_type_id"]]
    reference = reference_for(case_id=row["id"], opened_at_year=row["opened_year"])
    if "requested_iso" in row:
        requested, updated, expected = row["requested_iso"], row["updated_iso"], row["expected_iso"]
    else:
        requested, updated, expected = (
            _iso(row["opened_at"], tz),
            _iso(row["updated_at"], tz),
            _iso(row["due_at"], tz),
        )
    return {
        "service_request_id": row["external_id"] or reference,
        "status": "open" if row["status"] in OPEN_STATUSES else "closed",
        "status_notes": row["status_notes"] or None,
        "service_name": name,
        "service_code": code,
        "description": row["public_summary"] or row["public_description"] or None,
        "agency_responsible": row.get("forwarded_to")
        or labels.departments.get(row["department_id"]),
        "service_notice": None,
        "requested_datetime": requested,
        "updated_datetime": updated,
        "expected_datetime": expected,
        "address": row["address"] or None,
        "address_id": row["address_id"] or None,
        "zipcode": None,
        "lat": row["lat"],
        "long": row["long"],
        "media_url": row["media_url"] or None,
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
    rows: Sequence[Mapping[str, Any]], *, jurisdiction: Jurisdiction, extensions: bool = False
) -> list[dict[str, Any]]:
    """Return GeoReport service requests for rows of `cases_for_georeport`.

    With `extensions`, each also carries `extended_attributes`: the channel it came in by,
    the detailed status behind GeoReport's open/closed, and its public history as `notes`
    (the shape Chicago's and Boston's extensions use), fetched in one more query.
    """
    tz = ZoneInfo(jurisdiction.timezone)
    labels = catalog_labels()
    items = [request_from_case(row, tz=tz, labels=labels) for row in rows]
    if extensions:
        history = _history([row["id"] for row in rows], tz)
        for row, item in zip(rows, items, strict=True):
            item["extended_attributes"] = {
                "channel": row["channel"],
                "detailed_status": row["status"],
                "notes": history[row["id"]],
            }
    return items


# XML element names for the extension's lists: `<notes><note>…</note></notes>`.
ITEM_NAMES = {"notes": "note"}


def extensions_wanted(request: HttpRequest) -> bool:
    """Return whether the caller asked for the extended attributes (`extensions=true`)."""
    return params_parse(
        RequestListParams, {"extensions": request.GET.get("extensions", "")}
    ).extensions
