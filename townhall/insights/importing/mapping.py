"""The service mapping file: the source's service names -> the council's catalogue.

YAML::

    services:                       # the name exactly as in the file (case ignored)
      Street Light Outages: {service: streetlight}
      Pothole Repair (Internal): {service: pothole, department: dpw}
    departments:                    # optional: source department -> department code,
      PWDx: dpw                     # for rows whose service is not mapped
    channels:                       # optional: source channel -> people.Channel value
      Citizens Connect App: web

or CSV with the header ``source_name,service_code,department_code`` (either code may be
empty). Rows whose service is not mapped keep the source's names as text only.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from townhall.catalog.models import Department, ServiceType
from townhall.people.models import Channel


class MappingError(Exception):
    """The mapping file cannot be used; the message says which entry and why."""


@dataclass(frozen=True)
class Target:
    service_type_id: int | None
    department_id: int | None
    personal: bool


@dataclass
class ServiceMapping:
    services: dict[str, Target] = field(default_factory=dict)  # casefolded source name
    departments: dict[str, int] = field(default_factory=dict)  # casefolded source name
    channels: dict[str, str] = field(default_factory=dict)

    def target(self, service_name: str, department_name: str) -> Target | None:
        """The catalogue entries for a row, or None if neither is mapped."""
        hit = self.services.get(service_name.casefold())
        if hit is not None:
            return hit
        dept = self.departments.get(department_name.casefold())
        return Target(None, dept, False) if dept is not None else None


def _entries(path: Path) -> tuple[dict[str, dict[str, str]], dict[str, str], dict[str, str]]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        need = {"source_name", "service_code", "department_code"}
        if not need.issubset(reader.fieldnames or []):
            raise MappingError(f"{path.name}: the header must be {','.join(sorted(need))}")
        services = {
            r["source_name"]: {"service": r["service_code"], "department": r["department_code"]}
            for r in reader
            if r.get("source_name")
        }
        return services, {}, {}
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingError(f"{path.name}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(data, dict) or not set(data) <= {"services", "departments", "channels"}:
        raise MappingError(f"{path.name}: expected the keys services, departments, channels")
    services = data.get("services") or {}
    departments = data.get("departments") or {}
    channels = data.get("channels") or {}
    for name, part in (("services", services), ("departments", departments)):
        if not isinstance(part, dict):
            raise MappingError(f"{path.name}: {name} must be a mapping")
    if not isinstance(channels, dict):
        raise MappingError(f"{path.name}: channels must be a mapping")
    out: dict[str, dict[str, str]] = {}
    for source, target in services.items():
        if isinstance(target, str):
            target = {"service": target}
        if not isinstance(target, dict) or not set(target) <= {"service", "department"}:
            raise MappingError(f"{path.name}: {source!r} needs service and/or department")
        out[str(source)] = {k: str(v) for k, v in target.items() if v}
    return (
        out,
        {str(k): str(v) for k, v in departments.items()},
        {str(k): str(v) for k, v in channels.items()},
    )


def mapping_load(path: Path) -> ServiceMapping:
    """Read and resolve a mapping file against the catalogue (MappingError if it can't)."""
    if not path.is_file():
        raise MappingError(f"no mapping file at {path}")
    services, departments, channels = _entries(path)
    service_codes = {t["service"] for t in services.values() if t.get("service")}
    dept_codes = {t["department"] for t in services.values() if t.get("department")}
    dept_codes |= set(departments.values())
    found_s: dict[str, tuple[int, int, bool]] = {}
    for service in ServiceType.objects.filter(code__in=service_codes):
        if service.code in found_s:
            raise MappingError(f"service code {service.code!r} exists in several jurisdictions")
        found_s[service.code] = (service.pk, service.department_id, service.personal)
    found_d: dict[str, int] = {}
    for d in Department.objects.filter(code__in=dept_codes):
        if d.code in found_d:
            raise MappingError(f"department code {d.code!r} exists in several jurisdictions")
        found_d[d.code] = d.pk
    unknown = sorted(
        (service_codes - set(found_s)) | {f"department {c}" for c in dept_codes - set(found_d)}
    )
    if unknown:
        raise MappingError(f"{path.name}: not in the catalogue: {', '.join(unknown)}")
    mapping = ServiceMapping()
    for source, target in services.items():
        code = target.get("service")
        st = found_s[code] if code else None
        dept = found_d[target["department"]] if target.get("department") else None
        mapping.services[source.casefold()] = Target(
            st[0] if st else None, dept or (st[1] if st else None), st[2] if st else False
        )
    for source, code in departments.items():
        mapping.departments[source.casefold()] = found_d[code]
    valid = set(Channel.values) | {"other"}
    for source, value in channels.items():
        if value not in valid:
            raise MappingError(f"{path.name}: channel {value!r} is not one of {sorted(valid)}")
        mapping.channels[source.casefold()] = value
    return mapping
