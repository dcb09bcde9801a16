"""Other apps' share of a resident's data export and erasure.

Apps above intake (the assistant's conversations) cannot be imported from here, so each
names a module in settings.TOWNHALL_PRIVACY_PARTS with three functions, all keyword-only
`citizen_id` and `phones` (the resident's phone numbers, for rows keyed by a number's hash):
`privacy_export(...) -> {file name: rows}`, `privacy_count(...) -> {name: count}` and
`privacy_erase(...) -> None` (called inside the erasure's transaction).
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from django.conf import settings

from townhall.people.models import Citizen, ContactKind


def privacy_parts() -> list[ModuleType]:
    """The modules that hold a share of a resident's data, as settings name them."""
    return [import_module(name) for name in getattr(settings, "TOWNHALL_PRIVACY_PARTS", [])]


def citizen_phones(citizen: Citizen) -> list[str]:
    """The phone numbers the resident has proven (E.164): rows keyed by a number are theirs
    only then (anyone can type someone else's number into a form)."""
    return list(
        citizen.contact_points.filter(kind=ContactKind.PHONE, verified=True).values_list(
            "value", flat=True
        )
    )
