"""Reads for people."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, ManyToOneRel, Q

from townhall.people.models import (
    Citizen,
    ConsentPurpose,
    ConsentRecord,
    ContactPoint,
    PersonEvent,
    ReportContact,
    SamePersonHint,
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


def citizen_same_person_hints(*, citizen_id: int) -> list[Citizen]:
    """Return the people whose contacts came with citizen `citizen_id`'s in one unproven
    message ("possibly the same person"), not dismissed, for staff to merge."""
    live = SamePersonHint.objects.filter(dismissed_at__isnull=True)
    # One query (the console's case page counts them): both sides of each pair.
    ids = Q(pk__in=live.filter(other_id=citizen_id).values("citizen_id")) | Q(
        pk__in=live.filter(citizen_id=citizen_id).values("other_id")
    )
    return list(Citizen.objects.filter(ids).exclude(pk=citizen_id).order_by("pk")[:DUPLICATES_MAX])


def citizen_contacts_for_staff(*, citizen_id: int) -> list[ContactPoint]:
    """The contact points of citizen `citizen_id` by kind, in one query, each carrying
    `same_person_hint`: whether staff should look at "possibly the same person" for them
    (see citizen_same_person_hints) - the same for every row."""
    hinted = SamePersonHint.objects.filter(dismissed_at__isnull=True).filter(
        Q(citizen_id=citizen_id) | Q(other_id=citizen_id)
    )
    return list(
        ContactPoint.objects.filter(citizen_id=citizen_id)
        .annotate(same_person_hint=Exists(hinted))
        .order_by("kind")
    )


def citizen_duplicates_likely(citizen: Citizen) -> list[Citizen]:
    """Return other people who may be `citizen`, a hint for staff: first those whose
    contacts came together with theirs in one message (SamePersonHint), then those with
    the same display name (ignoring case).

    Only a hint: a shared name or a message is no proof, and contact points never clash
    (each value belongs to one person), so the candidates always reach us some other way.
    """
    found = citizen_same_person_hints(citizen_id=citizen.pk)
    name = citizen.display_name.strip()
    if name:
        found += [
            other
            for other in Citizen.objects.filter(display_name__iexact=name)
            .exclude(pk=citizen.pk)
            .order_by("pk")[:DUPLICATES_MAX]
            if other not in found
        ]
    return found[:DUPLICATES_MAX]


def case_contacts(*, citizen: Citizen, case_id: int) -> dict[str, str] | None:
    """The contacts of `citizen`, the reporter of `case_id`, that may hear about that case:
    {kind: value}, verified ones first; None for a case with no contacts recorded with its
    report (opened by staff or before reports recorded them), where every contact of the
    reporter counts as before.

    Only verified contacts, or contacts given with that very report ("self-given"), and
    the reporter's verified contacts only if the report came through one of them: a
    contact that arrived with another message is not proof that it is this reporter's.
    """
    given = list(
        ContactPoint.objects.filter(reports__case_id=case_id).order_by("-verified", "-created_at")
    )
    if not given:
        return None
    allowed = list(given)
    if any(p.verified and p.citizen_id == citizen.pk for p in given):
        allowed += list(
            ContactPoint.objects.filter(citizen=citizen, verified=True).order_by("-created_at")
        )
    out: dict[str, str] = {}
    # The reporter's own contacts first (their opt-outs apply), verified ones first.
    for point in sorted(allowed, key=lambda p: (p.citizen_id != citizen.pk, not p.verified)):
        out.setdefault(point.kind, point.value)
    return out


def cases_proven_for(*, citizen: Citizen, case_ids: list[int]) -> set[int]:
    """Of `case_ids` (reported by `citizen`), those their signed-in account may open: the
    report came through a contact now verified as theirs, or no contact was recorded with
    it (opened by staff, or before reports recorded their contacts)."""
    recorded = set(
        ReportContact.objects.filter(case_id__in=case_ids).values_list("case_id", flat=True)
    )
    proven = set(
        ReportContact.objects.filter(
            case_id__in=case_ids,
            contact_point__citizen=citizen,
            contact_point__verified=True,
        ).values_list("case_id", flat=True)
    )
    return {pk for pk in case_ids if pk not in recorded or pk in proven}


def contact_trusted_for_case(
    *, case_id: int, reporter_id: int | None, kind: str, value: str
) -> bool:
    """Whether a message from the normalised contact (`kind`, `value`) may speak for the
    reporter of `case_id`: it is one of the reporter's verified contacts, or it was given
    with that very report."""
    point = ContactPoint.objects.filter(kind=kind, value=value).first()
    if point is None:
        return False
    if reporter_id is not None and point.citizen_id == reporter_id and point.verified:
        return True
    return ReportContact.objects.filter(case_id=case_id, contact_point=point).exists()


def citizen_verified_contacts(citizen: Citizen) -> list[ContactPoint]:
    """The contacts `citizen` has proven, e-mails first."""
    return list(
        ContactPoint.objects.filter(citizen=citizen, verified=True).order_by("kind", "-created_at")
    )


def citizen_id_for_user(*, user_id: int) -> int | None:
    """Return the id of the resident a signed-in account belongs to, or None (staff)."""
    return Citizen.objects.filter(user_id=user_id).values_list("pk", flat=True).first()


def citizen_verified_email(*, citizen_id: int) -> str | None:
    """Return the e-mail address a resident has proven (the newest), or None."""
    return (
        ContactPoint.objects.filter(citizen_id=citizen_id, kind="email", verified=True)
        .order_by("-created_at")
        .values_list("value", flat=True)
        .first()
    )


def citizen_get(*, citizen_id: int) -> Citizen | None:
    return Citizen.objects.filter(pk=citizen_id).first()
