"""Reads for people."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import ManyToOneRel

from townhall.people.models import (
    Citizen,
    ConsentPurpose,
    ConsentRecord,
    ContactPoint,
    PersonEvent,
)

DUPLICATES_MAX = 20


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


def citizen_links() -> list[ManyToOneRel]:
    """Every ForeignKey and OneToOneField, in any installed app, that points at Citizen.

    Found through the model registry, so this low layer names no other app. Hidden
    relations (related_name "+", many-to-many tables) are included: every row that refers
    to a citizen is reached through one of these. Sorted by label, for a stable order.
    """
    links = [
        rel
        for rel in Citizen._meta.get_fields(include_hidden=True)
        if isinstance(rel, ManyToOneRel)  # OneToOneRel included; ManyToManyRel is not one
    ]
    return sorted(links, key=link_label)


def link_label(rel: ManyToOneRel) -> str:
    """Name a link as "app_label.model.field", e.g. "cases.case.reporter"."""
    return f"{rel.field.model._meta.label_lower}.{rel.field.name}"


@dataclass(frozen=True)
class LinkCount:
    label: str
    name: str
    count: int


def citizen_related_counts(citizen: Citizen) -> list[LinkCount]:
    """Return how many rows of each table refer to `citizen` (tables with none left out)."""
    counts: list[LinkCount] = []
    for rel in citizen_links():
        model = rel.field.model
        count = model._base_manager.filter(**{rel.field.name: citizen}).count()
        if count:
            name = f"{model._meta.verbose_name_plural} ({rel.field.verbose_name})"
            counts.append(LinkCount(label=link_label(rel), name=name, count=count))
    return counts


def citizen_history(citizen: Citizen) -> list[PersonEvent]:
    """Return the audit trail of `citizen`, newest first, including merged-away people's."""
    return list(PersonEvent.objects.filter(citizen=citizen).order_by("-at", "-id"))


def citizen_duplicates_likely(citizen: Citizen) -> list[Citizen]:
    """Return other people with the same display name (ignoring case), a hint for staff.

    Only a hint: a shared name is no proof, and contact points never clash (each value
    belongs to one person), so the candidates always reach us some other way.
    """
    name = citizen.display_name.strip()
    if not name:
        return []
    return list(
        Citizen.objects.filter(display_name__iexact=name)
        .exclude(pk=citizen.pk)
        .order_by("pk")[:DUPLICATES_MAX]
    )
