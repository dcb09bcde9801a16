"""Reads for people."""

from __future__ import annotations

from townhall.people.models import Citizen, ConsentPurpose, ConsentRecord, ContactPoint


def citizen_has_consent(*, citizen: Citizen, purpose: ConsentPurpose) -> bool:
    """Return whether the latest consent record of `citizen` for `purpose` grants it."""
    latest = (
        ConsentRecord.objects.filter(citizen=citizen, purpose=purpose)
        .order_by("-at", "-id")
        .first()
    )
    return bool(latest and latest.granted)


def citizen_contact(*, citizen: Citizen, kind: str) -> str | None:
    """Return the citizen's contact value of `kind` (verified ones first), or None."""
    point = (
        ContactPoint.objects.filter(citizen=citizen, kind=kind)
        .order_by("-verified", "-created_at")
        .values_list("value", flat=True)
        .first()
    )
    return point


def citizen_by_contact(*, kind: str, value: str) -> Citizen | None:
    """Return the citizen owning a normalised contact value, or None."""
    point = ContactPoint.objects.select_related("citizen").filter(kind=kind, value=value).first()
    return point.citizen if point is not None else None
