"""Writes for the catalogue: importing a council's whole service catalogue from plain data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from townhall.catalog.importing import catalogue_check
from townhall.catalog.models import (
    AttributeDefinition,
    BusinessCalendar,
    CalendarClosure,
    Department,
    DepartmentMember,
    Jurisdiction,
    Open311Type,
    ServiceGroup,
    ServiceType,
    SlaPolicy,
)
from townhall.catalog.selectors import catalog_cache_clear
from townhall.core.errors import ValidationFailed

if TYPE_CHECKING:
    from townhall.core.users import StaffUser


@dataclass
class ImportSummary:
    """What a catalogue import created or updated, by kind."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, created: bool) -> None:
        bucket = self.created if created else self.updated
        bucket[kind] = bucket.get(kind, 0) + 1


def catalog_import(*, spec: Mapping[str, Any]) -> tuple[Jurisdiction, ImportSummary]:
    """Create or update a jurisdiction's catalogue from `spec`, matching rows by code.

    Safe to run again: existing rows are updated in place, nothing is deleted.
    Raise ValidationFailed (nothing written) if the spec refers to unknown codes or
    breaks a rule.
    """
    catalogue_check(spec)
    summary = ImportSummary()
    j = spec["jurisdiction"]
    cal = spec["calendar"]
    with transaction.atomic():
        existing = Jurisdiction.objects.filter(slug=j["slug"]).select_related("calendar").first()
        calendar = existing.calendar if existing else BusinessCalendar()
        calendar.name = cal["name"]
        calendar.timezone = j["timezone"]
        calendar.country = j["country"]
        calendar.subdivision = j.get("subdivision") or ""
        calendar.opens = time.fromisoformat(cal["opens"])
        calendar.closes = time.fromisoformat(cal["closes"])
        calendar.workdays = sorted(cal["workdays"])
        try:
            calendar.full_clean()
        except ValidationError as exc:
            raise ValidationFailed("The calendar is not valid.", details=exc.message_dict) from exc
        summary.count("calendars", calendar.pk is None)
        calendar.save()
        for closure in cal.get("closures", []):
            _, created = CalendarClosure.objects.update_or_create(
                calendar=calendar,
                date=date.fromisoformat(closure["date"]),
                defaults={"reason": closure["reason"]},
            )
            summary.count("closures", created)
        centre = j.get("centre") or {}
        jurisdiction, created = Jurisdiction.objects.update_or_create(
            slug=j["slug"],
            defaults={
                "name": j["name"],
                "open311_id": j["open311_id"],
                "timezone": j["timezone"],
                "calendar": calendar,
                "centre_lat": centre.get("lat"),
                "centre_long": centre.get("long"),
                "website": j.get("website", ""),
            },
        )
        summary.count("jurisdictions", created)
        departments: dict[str, Department] = {}
        for d in spec["departments"]:
            departments[d["code"]], created = Department.objects.update_or_create(
                jurisdiction=jurisdiction,
                code=d["code"],
                defaults={
                    "name": d["name"],
                    "description": d.get("description", ""),
                    "email": d.get("email") or "",
                    "phone": d.get("phone") or "",
                    "translations": d.get("translations") or {},
                    "auto_assign": bool(d.get("auto_assign", False)),
                },
            )
            summary.count("departments", created)
        groups: dict[str, ServiceGroup] = {}
        for g in spec["groups"]:
            groups[g["code"]], created = ServiceGroup.objects.update_or_create(
                jurisdiction=jurisdiction,
                code=g["code"],
                defaults={
                    "name": g["name"],
                    "description": g.get("description", ""),
                    "translations": g.get("translations") or {},
                },
            )
            summary.count("groups", created)
        for s in spec["service_types"]:
            service, created = ServiceType.objects.update_or_create(
                jurisdiction=jurisdiction,
                code=s["code"],
                defaults={
                    "name": s["name"],
                    "description": s.get("description", ""),
                    "keywords": list(s.get("keywords", [])),
                    "group": groups[s["group"]],
                    "department": departments[s["department"]],
                    "open311_type": s.get("open311_type", Open311Type.REALTIME),
                    "active": s.get("active", True),
                    "translations": s.get("translations") or {},
                    "duplicate_radius_m": s.get("duplicates", {}).get("radius_m", 50),
                    "duplicate_window_days": s.get("duplicates", {}).get("window_days", 30),
                    "personal": s.get("personal", False),
                },
            )
            summary.count("service_types", created)
            for rule in s.get("sla", []):
                _, created = SlaPolicy.objects.update_or_create(
                    service_type=service,
                    priority=rule["priority"],
                    defaults={"target_hours": Decimal(str(rule["hours"])), "clock": rule["clock"]},
                )
                summary.count("sla_policies", created)
            for order, a in enumerate(s.get("attributes", []), start=1):
                _, created = AttributeDefinition.objects.update_or_create(
                    service_type=service,
                    code=a["code"],
                    defaults={
                        "datatype": a["datatype"],
                        "required": bool(a.get("required", False)),
                        "variable": bool(a.get("variable", True)),
                        "description": a["description"],
                        "datatype_description": a.get("datatype_description", ""),
                        "order": a.get("order", order),
                        "values": list(a.get("values") or []),
                        "translations": a.get("translations") or {},
                    },
                )
                summary.count("attributes", created)
    catalog_cache_clear()
    return jurisdiction, summary


def department_member_add(
    *,
    department: Department,
    user: StaffUser,
    takes_cases: bool = True,
    weight: Decimal | int | str = 1,
    skills: Sequence[ServiceType] = (),
) -> DepartmentMember:
    """Make `user` a member of `department` (or update their membership)."""
    member, _ = DepartmentMember.objects.update_or_create(
        department=department,
        user=user,
        defaults={"takes_cases": takes_cases, "weight": Decimal(str(weight))},
    )
    if skills:
        member.skills.set(skills)
    return member
