"""Reads of the catalogue for other apps and faces."""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from townhall.catalog.attributes import AttributeSpec
from townhall.catalog.calendars import WorkingCalendar, closed_days_for
from townhall.catalog.models import (
    AttributeDefinition,
    BusinessCalendar,
    Department,
    Jurisdiction,
    Priority,
    ServiceType,
    SlaPolicy,
)

# Calendars, SLA policies and questions change a few times a year and are read on every case
# opened, so each process keeps them for a minute instead of asking the database.
_CACHE_SECONDS = 60.0
_calendars: dict[int, tuple[float, WorkingCalendar]] = {}
_policies: dict[tuple[int, str], tuple[float, SlaTerms | None]] = {}
_jurisdiction_calendars: dict[int, tuple[float, int]] = {}
_specs: dict[int, tuple[float, list[AttributeSpec]]] = {}
_services: dict[tuple[int | None, str], tuple[float, ServiceType]] = {}
_jurisdictions: list[tuple[float, list[Jurisdiction]]] = []
_labels: dict[int, tuple[float, CatalogLabels]] = {}


@dataclass(frozen=True)
class SlaTerms:
    """A service type's SLA at one priority, as plain data."""

    target_hours: Decimal
    clock: str


@dataclass(frozen=True)
class CatalogLabels:
    """What a case row needs from the catalogue to be shown: per service type id its code,
    name and jurisdiction, per department id its name."""

    services: dict[int, tuple[str, str, int]]
    departments: dict[int, str]
    # Service types whose reports are personal: never in a public list.
    personal: frozenset[int] = frozenset()


def catalog_cache_clear() -> None:
    """Forget cached catalogue reads (after an edit, and between tests)."""
    _calendars.clear()
    _policies.clear()
    _jurisdiction_calendars.clear()
    _specs.clear()
    _services.clear()
    _jurisdictions.clear()
    _labels.clear()


def jurisdiction_list() -> list[Jurisdiction]:
    """Return every jurisdiction, oldest first (a site serves one or a handful)."""
    if _jurisdictions and _jurisdictions[0][0] > time.monotonic():
        return _jurisdictions[0][1]
    found = list(Jurisdiction.objects.order_by("pk"))
    if found:  # a site being set up sees its first council at once
        _jurisdictions[:] = [(time.monotonic() + _CACHE_SECONDS, found)]
    return found


def catalog_labels() -> CatalogLabels:
    """Return the names and codes of every service type and department, by id."""
    hit = _labels.get(0)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    labels = CatalogLabels(
        services={
            pk: (code, name, jurisdiction_id)
            for pk, code, name, jurisdiction_id in ServiceType.objects.values_list(
                "pk", "code", "name", "jurisdiction_id"
            )
        },
        departments=dict(Department.objects.values_list("pk", "name")),
        personal=frozenset(ServiceType.objects.filter(personal=True).values_list("pk", flat=True)),
    )
    _labels[0] = (time.monotonic() + _CACHE_SECONDS, labels)
    return labels


def service_type_list(*, active_only: bool = True) -> QuerySet[ServiceType]:
    """Return service types with their group and department, ordered by group and name."""
    qs = ServiceType.objects.select_related("group", "department", "jurisdiction")
    if active_only:
        qs = qs.filter(active=True)
    return qs.order_by("group__name", "name")


def service_type_get(*, code: str, jurisdiction: Jurisdiction | None = None) -> ServiceType:
    """Return the service type with `code` (with its department, group and jurisdiction);
    raise ServiceType.DoesNotExist if none. Kept for a minute per process, like the rest
    of the catalogue: treat the instance as read-only."""
    key = (jurisdiction.pk if jurisdiction is not None else None, code)
    hit = _services.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    qs = ServiceType.objects.select_related("department", "group", "jurisdiction")
    if jurisdiction is not None:
        qs = qs.filter(jurisdiction=jurisdiction)
    found = qs.get(code=code)
    _services[key] = (time.monotonic() + _CACHE_SECONDS, found)
    return found


def attribute_specs_for(*, service_type: ServiceType) -> list[AttributeSpec]:
    """Return the validation specs of a service type's attributes, in display order."""
    hit = _specs.get(service_type.pk)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    definitions = AttributeDefinition.objects.filter(service_type=service_type).order_by(
        "order", "id"
    )
    specs = [
        AttributeSpec(
            code=d.code,
            datatype=d.datatype,
            required=d.required,
            variable=d.variable,
            values=tuple(str(v["key"]) for v in d.values),
            description=d.description,
            value_names=tuple(str(v.get("name") or v["key"]) for v in d.values),
            datatype_description=d.datatype_description,
            translations=d.translations or {},
        )
        for d in definitions
    ]
    _specs[service_type.pk] = (time.monotonic() + _CACHE_SECONDS, specs)
    return specs


def sla_terms_for(*, service_type_id: int, priority: str) -> SlaTerms | None:
    """Return the SLA for a service type at `priority`, falling back to its normal one."""
    key = (service_type_id, priority)
    hit = _policies.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    wanted = {priority, Priority.NORMAL.value}
    rows = {
        p.priority: p
        for p in SlaPolicy.objects.filter(service_type_id=service_type_id, priority__in=wanted)
    }
    policy = rows.get(priority) or rows.get(Priority.NORMAL.value)
    terms = SlaTerms(target_hours=policy.target_hours, clock=policy.clock) if policy else None
    _policies[key] = (time.monotonic() + _CACHE_SECONDS, terms)
    return terms


def working_calendar_for(*, department: Department) -> WorkingCalendar:
    """Return the working calendar of a department (its own, else its jurisdiction's)."""
    calendar_id = department.calendar_id
    if calendar_id is None:
        hit = _jurisdiction_calendars.get(department.jurisdiction_id)
        if hit and hit[0] > time.monotonic():
            calendar_id = hit[1]
        else:
            calendar_id = Jurisdiction.objects.values_list("calendar_id", flat=True).get(
                pk=department.jurisdiction_id
            )
            _jurisdiction_calendars[department.jurisdiction_id] = (
                time.monotonic() + _CACHE_SECONDS,
                calendar_id,
            )
    return working_calendar_get(calendar_id=calendar_id)


def working_calendar_get(*, calendar_id: int) -> WorkingCalendar:
    """Return the pure working calendar built from a BusinessCalendar row."""
    hit = _calendars.get(calendar_id)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    row = BusinessCalendar.objects.prefetch_related("closures").get(pk=calendar_id)
    calendar = WorkingCalendar(
        tz=ZoneInfo(row.timezone),
        opens=row.opens,
        closes=row.closes,
        workdays=frozenset(int(d) for d in row.workdays) or frozenset(range(5)),
        closed_days=closed_days_for(
            country=row.country,
            subdivision=row.subdivision or None,
            closures=[c.date for c in row.closures.all()],
        ),
    )
    _calendars[calendar_id] = (time.monotonic() + _CACHE_SECONDS, calendar)
    return calendar


def council_contact(*, jurisdiction: Jurisdiction) -> tuple[BusinessCalendar, list[Department]]:
    """The council's opening hours and its departments (with their e-mail and phone), for
    the public contact page."""
    calendar = BusinessCalendar.objects.get(pk=jurisdiction.calendar_id)
    return calendar, list(jurisdiction.departments.order_by("name"))
