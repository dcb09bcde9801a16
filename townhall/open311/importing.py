"""Import service requests served by another GeoReport v2 server (e.g. a city's archive).

Each record becomes a case through `case_import`, keeping the id it had, so the same
request is served back here under the same `service_request_id`, with the same fields.
Records are checked one by one: a bad record is reported and skipped, never half-written;
an id already imported is skipped, so an interrupted import can simply be run again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_datetime

from townhall.cases.services import case_import
from townhall.catalog.models import Jurisdiction, ServiceType
from townhall.core.errors import ValidationFailed

# Fields of a GeoReport request this importer keeps; anything else is counted as dropped.
KEPT = frozenset(
    {
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "requested_datetime",
        "updated_datetime",
        "address",
        "address_string",
        "address_id",
        "lat",
        "long",
        "media_url",
    }
)


@dataclass
class ImportReport:
    imported: int = 0
    already: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (index, id, why)
    dropped_fields: Counter[str] = field(default_factory=Counter)


class RecordProblem(Exception):
    pass


def _text(record: Mapping[str, Any], name: str) -> str:
    value = record.get(name)
    if value is None:
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise RecordProblem(f"{name} must be text.")
    return str(value)


def _moment(record: Mapping[str, Any], name: str, tz: ZoneInfo) -> datetime | None:
    raw = _text(record, name).strip()
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None:
        raise RecordProblem(f"{name} {raw!r} is not a W3C date-time.")
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def _coordinate(record: Mapping[str, Any], name: str) -> float | None:
    value = record.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordProblem(f"{name} must be a number.")
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise RecordProblem(f"{name} must be a number.") from exc


def georeport_import(
    records: Iterable[Any],
    *,
    jurisdiction: Jurisdiction,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import GeoReport v2 request records into `jurisdiction`; return what happened."""
    tz = ZoneInfo(jurisdiction.timezone)
    services = {
        s.code: s
        for s in ServiceType.objects.filter(jurisdiction=jurisdiction).select_related("department")
    }
    report = ImportReport()
    for index, record in enumerate(records):
        record_id = ""
        try:
            if not isinstance(record, Mapping):
                raise RecordProblem("a record must be a JSON object.")
            record_id = _text(record, "service_request_id").strip()
            report.dropped_fields.update(
                k for k, v in record.items() if k not in KEPT and v not in (None, "")
            )
            outcome = _import_one(record, record_id, services, tz)
        except RecordProblem as exc:
            report.rejected.append((index, record_id, str(exc)))
        except ValidationFailed as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.details.items())
            report.rejected.append((index, record_id, problems or exc.message))
        else:
            if outcome:
                report.imported += 1
            else:
                report.already += 1
        if progress is not None:
            progress(1)
    return report


def _import_one(
    record: Mapping[str, Any], record_id: str, services: Mapping[str, ServiceType], tz: ZoneInfo
) -> bool:
    if not record_id:
        raise RecordProblem("service_request_id is missing.")
    code = _text(record, "service_code").strip()
    service = services.get(code)
    if service is None:
        raise RecordProblem(
            f"service_code {code!r} is not in the catalogue; import the catalogue first."
        )
    status = _text(record, "status").strip().lower()
    if status not in {"open", "closed"}:
        raise RecordProblem(f"status {status!r} is neither open nor closed.")
    requested = _moment(record, "requested_datetime", tz)
    if requested is None:
        raise RecordProblem("requested_datetime is missing.")
    updated = _moment(record, "updated_datetime", tz) or requested
    case = case_import(
        service_type=service,
        external_id=record_id,
        finished=status == "closed",
        opened_at=requested,
        updated_at=updated,
        description=_text(record, "description"),
        lat=_coordinate(record, "lat"),
        long=_coordinate(record, "long"),
        address=_text(record, "address") or _text(record, "address_string"),
        address_id=_text(record, "address_id"),
        media_url=_text(record, "media_url"),
        status_notes=_text(record, "status_notes"),
    )
    return case is not None
