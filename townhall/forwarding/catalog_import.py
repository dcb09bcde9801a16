"""Taking another body's Open311 catalogue: its services and their questions become our
service types, each mapped to the body's service code, so cases of them can be forwarded.

`body_catalog_import` reads the body's services.json and, for each service with
`metadata: true`, its definition (services/<code>.json). Each service is checked whole
before anything is written; then it is written through `catalog.services.catalog_import`
(the catalogue's own import, with its checks) together with its `ServiceMapping`, in one
transaction: a service is imported whole or not at all. A bad record (no code, no name, an
unknown datatype, a list with no values, a definition that cannot be read) is reported and
skipped; the others go on.

Matching: a service already mapped from this body keeps its service type (and its code,
department, SLA, translations and settings staff gave it); a new one gets the code
`<body slug>-<remote code>`, made safe. Attribute codes are made safe the same way, and the
mapping remembers ours -> theirs. Nothing is deleted; a service that is the same as last
time is not written at all, so running it twice changes nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from townhall.catalog.models import (
    AttributeDatatype,
    Department,
    Jurisdiction,
    ServiceGroup,
    ServiceType,
)
from townhall.catalog.selectors import catalog_cache_clear
from townhall.catalog.services import catalog_import
from townhall.core.errors import ValidationFailed
from townhall.forwarding.client import Open311Client, RemoteError
from townhall.forwarding.models import Body, RoutingRule, ServiceMapping
from townhall.forwarding.routing import routing_cache_clear
from townhall.notify.channels.base import Transport

__all__ = ["CatalogImportReport", "body_catalog_import", "code_safe"]

CODE_MAX = 60
LIST_TYPES = {AttributeDatatype.SINGLEVALUELIST, AttributeDatatype.MULTIVALUELIST}
_SAFE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
OPEN311_TYPES = {"realtime", "batch", "blackbox"}


class BadRecord(Exception):
    """A remote service that cannot be imported as it stands (the message says why)."""


@dataclass
class CatalogImportReport:
    """What an import did (or, dry, would do), by our service code."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (remote code, why)
    routed: int = 0  # service types added to the body's routing rule


def code_safe(raw: str, *, prefix: str = "", limit: int = CODE_MAX) -> str:
    """A code our catalogue accepts (lower case letters, digits, '-', '_'), from remote text;
    too long or emptied by cleaning, it ends in a short digest of the original."""
    base = slugify(f"{prefix}-{raw}" if prefix else raw).replace("--", "-").strip("-_")
    if base and _SAFE.match(base) and len(base) <= limit and base == base.lower():
        return base
    digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
    head = base[: limit - 9].strip("-_")
    return f"{head}-{digest}" if head else (f"{prefix}-{digest}" if prefix else f"s{digest}")


def _str(value: Any, what: str, *, required: bool = True, numbers: bool = False) -> str:
    if value is None or value == "":
        if required:
            raise BadRecord(f"no {what}")
        return ""
    if isinstance(value, str):
        return value.strip()
    if numbers and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise BadRecord(f"{what} is not text")


def _flag(value: Any, what: str, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise BadRecord(f"{what} is not true or false")


def _keywords(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        words = value.split(",")
    elif isinstance(value, list) and all(isinstance(w, str) for w in value):
        words = value
    else:
        raise BadRecord("keywords are not text")
    return [w.strip()[:100] for w in words if w.strip()][:50]


def _attributes(definition: Mapping[str, Any], remote_code: str) -> list[dict[str, Any]]:
    """Our attribute specs from a GeoReport service definition (raise BadRecord)."""
    code = definition.get("service_code")
    if code not in (None, "") and str(code) != remote_code:
        raise BadRecord(f"the definition is for service {str(code)[:60]!r}")
    raw = definition.get("attributes")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadRecord("attributes are not a list")
    specs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping):
            raise BadRecord(f"attribute {n} is not an object")
        theirs = _str(item.get("code"), f"attribute {n} code", numbers=True)
        ours = code_safe(theirs)
        if ours in seen:
            raise BadRecord(f"attribute codes {theirs!r} and another read the same")
        seen.add(ours)
        datatype = _str(item.get("datatype"), f"attribute {theirs} datatype").lower()
        if datatype not in AttributeDatatype.values:
            raise BadRecord(f"attribute {theirs}: unknown datatype {datatype[:30]!r}")
        values: list[dict[str, str]] = []
        raw_values = item.get("values") or []
        if not isinstance(raw_values, list):
            raise BadRecord(f"attribute {theirs}: values are not a list")
        for value in raw_values:
            if not isinstance(value, Mapping):
                raise BadRecord(f"attribute {theirs}: a value is not an object")
            key = _str(value.get("key"), f"attribute {theirs} value key", numbers=True)
            name = _str(value.get("name"), f"attribute {theirs} value name", required=False)
            values.append({"key": key[:100], "name": (name or key)[:200]})
        if datatype in LIST_TYPES and not values:
            raise BadRecord(f"attribute {theirs}: a list with no values")
        order = item.get("order")
        if order is not None and (not isinstance(order, int) or isinstance(order, bool)):
            raise BadRecord(f"attribute {theirs}: order is not a whole number")
        description = _str(
            item.get("description"), f"attribute {theirs} description", required=False
        )
        specs.append(
            {
                "code": ours,
                "remote_code": theirs,
                "datatype": datatype,
                "required": _flag(item.get("required"), f"attribute {theirs} required", False),
                "variable": _flag(item.get("variable"), f"attribute {theirs} variable", True),
                "description": (description or theirs)[:500],
                "datatype_description": _str(
                    item.get("datatype_description"), "datatype_description", required=False
                )[:500],
                "order": max(order, 0) if isinstance(order, int) else n,
                "values": values if datatype in LIST_TYPES else [],
            }
        )
    return specs


@dataclass
class _Place:
    """Where imported services go in our catalogue."""

    jurisdiction: Jurisdiction
    department: Department
    group: ServiceGroup | None  # None: one per remote group (or the body's name)


def _jurisdiction_spec(j: Jurisdiction) -> dict[str, Any]:
    cal = j.calendar
    spec: dict[str, Any] = {
        "jurisdiction": {
            "slug": j.slug,
            "name": j.name,
            "open311_id": j.open311_id,
            "timezone": j.timezone,
            "country": cal.country,
            "subdivision": cal.subdivision or "",
            "website": j.website,
        },
        "calendar": {
            "name": cal.name,
            "workdays": list(cal.workdays),
            "opens": cal.opens.isoformat(),
            "closes": cal.closes.isoformat(),
            "closures": [],  # the import adds, never removes: the existing ones stay
        },
    }
    if j.centre_lat is not None and j.centre_long is not None:
        spec["jurisdiction"]["centre"] = {"lat": j.centre_lat, "long": j.centre_long}
    return spec


def _department_spec(d: Department) -> dict[str, Any]:
    return {
        "code": d.code,
        "name": d.name,
        "description": d.description,
        "email": d.email,
        "phone": d.phone,
        "translations": d.translations or None,
        "auto_assign": d.auto_assign,
    }


def _state(service: ServiceType | None) -> Any:
    """What an import may change of a service type, to tell whether it would."""
    if service is None:
        return None
    return (
        service.name,
        service.description,
        list(service.keywords),
        service.group.code,
        service.open311_type,
        sorted(
            (
                a.code,
                a.datatype,
                a.required,
                a.variable,
                a.description,
                a.datatype_description,
                a.order,
                list(a.values),
            )
            for a in service.attributes.all()
        ),
    )


def _wanted_state(spec: Mapping[str, Any], existing: ServiceType | None) -> Any:
    kept = {a.code: a for a in existing.attributes.all()} if existing else {}
    attrs = {
        a["code"]: (
            a["code"],
            a["datatype"],
            a["required"],
            a["variable"],
            a["description"],
            a["datatype_description"],
            a["order"],
            a["values"],
        )
        for a in spec["attributes"]
    }
    for code, a in kept.items():  # attributes the remote dropped are kept, not deleted
        attrs.setdefault(
            code,
            (
                a.code,
                a.datatype,
                a.required,
                a.variable,
                a.description,
                a.datatype_description,
                a.order,
                list(a.values),
            ),
        )
    return (
        spec["name"],
        spec["description"],
        list(spec["keywords"]),
        spec["group"],
        spec["open311_type"],
        sorted(attrs.values()),
    )


def _service_spec(
    body: Body,
    record: Mapping[str, Any],
    definition: Mapping[str, Any] | None,
    place: _Place,
    existing: ServiceType | None,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """Our service-type spec, the group spec it needs and the attribute mapping."""
    remote_code = _str(record.get("service_code"), "service_code", numbers=True)
    name = _str(record.get("service_name"), "service_name")[:200]
    kind = _str(record.get("type"), "type", required=False).lower() or "realtime"
    if kind not in OPEN311_TYPES:
        raise BadRecord(f"unknown type {kind[:30]!r}")
    attributes = _attributes(definition, remote_code) if definition is not None else []
    if existing is not None:
        group_spec = {"code": existing.group.code, "name": existing.group.name}
    elif place.group is not None:
        group_spec = {"code": place.group.code, "name": place.group.name}
    else:
        group_name = _str(record.get("group"), "group", required=False)[:200] or body.name
        group_spec = {"code": code_safe(group_name, limit=40), "name": group_name}
    spec: dict[str, Any] = {
        "code": existing.code if existing else code_safe(remote_code, prefix=body.slug),
        "name": name,
        "description": _str(record.get("description"), "description", required=False)[:4000],
        "keywords": _keywords(record.get("keywords")),
        "group": group_spec["code"],
        "department": existing.department.code if existing else place.department.code,
        "open311_type": kind,
        "attributes": [{k: v for k, v in a.items() if k != "remote_code"} for a in attributes],
    }
    if existing is not None:
        spec["active"] = existing.active
        spec["personal"] = existing.personal
        spec["translations"] = existing.translations or None
        spec["duplicates"] = {
            "radius_m": existing.duplicate_radius_m,
            "window_days": existing.duplicate_window_days,
        }
        kept = {a.code: a for a in existing.attributes.all()}
        for a in spec["attributes"]:
            if a["code"] in kept and kept[a["code"]].translations:
                a["translations"] = kept[a["code"]].translations
    mapping = {a["code"]: a["remote_code"] for a in attributes}
    return spec, group_spec, mapping


def _one_service(
    *,
    body: Body,
    client: Open311Client,
    record: Mapping[str, Any],
    place: _Place,
    report: CatalogImportReport,
    routed: list[ServiceType],
) -> None:
    remote_code = _str(record.get("service_code"), "service_code", numbers=True)[:120]
    metadata = _flag(record.get("metadata"), "metadata", False)
    definition: dict[str, Any] | None = None
    if metadata:
        try:
            definition = client.get_definition(remote_code)
        except RemoteError as exc:
            raise BadRecord(f"its definition could not be read: {exc}") from exc
    mapping_row = (
        ServiceMapping.objects.filter(body=body, remote_code=remote_code)
        .select_related("service_type__group", "service_type__department")
        .first()
    )
    existing = mapping_row.service_type if mapping_row else None
    if existing is None:
        code = code_safe(remote_code, prefix=body.slug)
        existing = (
            ServiceType.objects.filter(jurisdiction=place.jurisdiction, code=code)
            .select_related("group", "department")
            .first()
        )
        if (
            existing is not None
            and ServiceMapping.objects.filter(service_type=existing).exclude(body=body).exists()
        ):
            raise BadRecord(f"our service {code} is already mapped to another body")
    if existing is not None and existing.jurisdiction_id != place.jurisdiction.pk:
        raise BadRecord(f"already imported into another jurisdiction ({existing.code})")
    spec, group_spec, attribute_map = _service_spec(body, record, definition, place, existing)
    if mapping_row is not None and existing is not None:
        attribute_map = {**mapping_row.attributes, **attribute_map}
    same = (
        existing is not None
        and mapping_row is not None
        and _state(existing) == _wanted_state(spec, existing)
        and mapping_row.attributes == attribute_map
    )
    if same:
        report.unchanged.append(spec["code"])
        assert existing is not None
        routed.append(existing)
        return
    department = existing.department if existing else place.department
    full = {
        **_jurisdiction_spec(place.jurisdiction),
        "departments": [_department_spec(department)],
        "groups": [group_spec],
        "service_types": [spec],
    }
    if existing is not None or place.group is not None:
        group = existing.group if existing else place.group
        assert group is not None
        full["groups"] = [
            {
                "code": group.code,
                "name": group.name,
                "description": group.description,
                "translations": group.translations or None,
            }
        ]
    else:
        found = ServiceGroup.objects.filter(
            jurisdiction=place.jurisdiction, code=group_spec["code"]
        ).first()
        if found is not None:  # keep the name and words staff gave it
            full["groups"] = [
                {
                    "code": found.code,
                    "name": found.name,
                    "description": found.description,
                    "translations": found.translations or None,
                }
            ]
    with transaction.atomic():
        try:
            catalog_import(spec=full)
        except ValidationFailed as exc:
            problems = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.details.items())
            raise BadRecord(problems or exc.message) from exc
        service = ServiceType.objects.get(jurisdiction=place.jurisdiction, code=spec["code"])
        ServiceMapping.objects.update_or_create(
            body=body,
            service_type=service,
            defaults={"remote_code": remote_code, "attributes": attribute_map},
        )
    (report.updated if existing is not None else report.created).append(spec["code"])
    routed.append(service)


def body_catalog_import(
    *,
    body: Body,
    jurisdiction: Jurisdiction,
    department: Department,
    group: ServiceGroup | None = None,
    route: bool = False,
    dry_run: bool = False,
    transport: Transport | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CatalogImportReport:
    """Import `body`'s Open311 services into `jurisdiction` (new ones in `department`, and
    `group` or a group per remote group); with `route`, the body's routing rule takes them.
    With `dry_run` nothing is kept. Raise RemoteError if services.json cannot be read."""
    client = Open311Client(
        body.endpoint,
        api_key=body.api_key,
        jurisdiction_id=body.jurisdiction_id,
        timeout=body.timeout_seconds,
        transport=transport,
    )
    records = client.get_services()
    report = CatalogImportReport()
    for _ in range(client.last_skipped):
        report.skipped.append(("?", "not an object"))
    place = _Place(jurisdiction=jurisdiction, department=department, group=group)
    routed: list[ServiceType] = []

    class _DryRun(Exception):
        pass

    try:
        with transaction.atomic():
            seen: set[str] = set()
            for n, record in enumerate(records, start=1):
                remote = str(record.get("service_code") or "?")[:120]
                try:
                    if remote in seen:
                        raise BadRecord("listed twice")
                    seen.add(remote)
                    with transaction.atomic():
                        _one_service(
                            body=body,
                            client=client,
                            record=record,
                            place=place,
                            report=report,
                            routed=routed,
                        )
                except BadRecord as exc:
                    report.skipped.append((remote, str(exc)[:300]))
                if progress is not None:
                    progress(n, len(records))
            if route and routed:
                rule = RoutingRule.objects.filter(body=body).order_by("order", "pk").first()
                if rule is None:
                    rule = RoutingRule.objects.create(body=body)
                have = set(rule.service_types.values_list("pk", flat=True))
                new = [s for s in routed if s.pk not in have]
                if new:
                    rule.service_types.add(*new)
                report.routed = len(new)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    routing_cache_clear()
    if dry_run:
        catalog_cache_clear()  # the import cleared it for rows now rolled back
    return report
