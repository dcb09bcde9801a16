"""Reads for people."""

from __future__ import annotations

from townhall.people.models import Citizen, ConsentPurpose, ConsentRecord


def citizen_has_consent(*, citizen: Citizen, purpose: ConsentPurpose) -> bool:
    """Return whether the latest consent record of `citizen` for `purpose` grants it."""
    latest = (
        ConsentRecord.objects.filter(citizen=citizen, purpose=purpose)
        .order_by("-at", "-id")
        .first()
    )
    return bool(latest and latest.granted)
