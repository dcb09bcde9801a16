"""What the forecast reads inside Townhall: daily counts of CaseFact rows, the council's
public holidays (its jurisdiction calendar's country and subdivision) and the busiest
service types. Only counts leave here: no case, person or text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from django.db.models import Count
from django.db.models.functions import TruncDate

from townhall.catalog.models import Jurisdiction, ServiceType
from townhall.insights.models import CaseFact
from townhall.waste.public_holidays import public_holidays


@dataclass(frozen=True)
class ServiceRef:
    id: int
    code: str
    name: str


def fact_daily_counts(
    *, service_type_id: int | None = None, include_personal: bool = True
) -> pd.Series:
    """Return requests opened per day (local date) as a series indexed by day; empty if
    there are none. `include_personal=False` leaves out personal services' requests."""
    rows = CaseFact.objects.all()
    if service_type_id is not None:
        rows = rows.filter(service_type_id=service_type_id)
    if not include_personal:
        rows = rows.filter(personal=False)
    found = (
        rows.annotate(day=TruncDate("opened_at"))
        .values("day")
        .annotate(n=Count("id"))
        .order_by("day")
        .values_list("day", "n")
    )
    pairs = list(found)
    if not pairs:
        return pd.Series([], dtype=float)
    days, counts = zip(*pairs, strict=True)
    return pd.Series(counts, index=pd.DatetimeIndex(days), dtype=float)


def council_holidays(years: range) -> tuple[frozenset[date], str]:
    """Return the public holidays of the first council's calendar in `years`, and a note
    (empty when found) saying why there are none."""
    jurisdiction = Jurisdiction.objects.select_related("calendar").order_by("pk").first()
    if jurisdiction is None:
        return frozenset(), "No council set up: public holidays left out."
    calendar = jurisdiction.calendar
    try:
        found = public_holidays(
            country=calendar.country, subdivision=calendar.subdivision, years=years
        )
    except ValueError:
        return frozenset(), f"Unknown holiday country {calendar.country!r}: holidays left out."
    if not found:
        return frozenset(), "The council's calendar has no country: holidays left out."
    return frozenset(found), ""


def service_by_code(code: str) -> ServiceRef:
    """Return the service type with `code`; raise LookupError if none or several."""
    found = list(ServiceType.objects.filter(code=code).values_list("pk", "code", "name")[:2])
    if len(found) != 1:
        raise LookupError(
            f"No service type {code!r}." if not found else f"Several service types {code!r}."
        )
    pk, found_code, name = found[0]
    return ServiceRef(id=pk, code=found_code, name=name)


def top_service_types(n: int) -> list[ServiceRef]:
    """Return the `n` service types with the most facts, busiest first."""
    rows = (
        CaseFact.objects.filter(service_type__isnull=False)
        .values("service_type_id", "service_type__code", "service_type__name")
        .annotate(n=Count("id"))
        .order_by("-n", "service_type_id")[:n]
    )
    return [
        ServiceRef(
            id=r["service_type_id"], code=r["service_type__code"], name=r["service_type__name"]
        )
        for r in rows
    ]
