"""Identity by staff: merge, split and contact points, each with its PersonEvent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import ManyToOneRel, ProtectedError
from django.utils.translation import gettext as _

from townhall.core import clock
from townhall.core.errors import NotFound, ValidationFailed
from townhall.people.contacts import email_normalise, phone_normalise
from townhall.people.history import (
    NAME_MAX,
    Actor,
    person_event_add,
    point_data,
    reason_check,
)
from townhall.people.models import (
    Citizen,
    ContactKind,
    ContactPoint,
    PersonEventKind,
)
from townhall.people.selectors import citizen_links, link_label


def _citizens_lock(*ids: int) -> dict[int, Citizen]:
    """Lock the citizens' rows in id order (two merges never wait on each other in a loop)."""
    rows = Citizen.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    found = {citizen.pk: citizen for citizen in rows}
    if len(found) != len(set(ids)):
        raise NotFound(_("That person no longer exists: merged or removed a moment ago."))
    return found


def _rows_repoint(rel: ManyToOneRel, source: Citizen, into: Citizen) -> tuple[int, list[int]]:
    """Point every row of `rel` that refers to `source` at `into`; return (moved, dropped ids).

    All rows move in one UPDATE. If that breaks a unique constraint (both people follow
    the same case, both opted out of one channel), each row is moved in its own savepoint
    instead, and a row that cannot move is deleted: `into` already has its equivalent.
    """
    manager = rel.field.model._base_manager
    field = rel.field.name
    try:
        with transaction.atomic():
            return manager.filter(**{field: source}).update(**{field: into}), []
    except IntegrityError:
        pass
    moved, dropped = 0, []
    for pk in list(manager.filter(**{field: source}).order_by("pk").values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                moved += manager.filter(pk=pk).update(**{field: into})
        except IntegrityError:
            manager.filter(pk=pk).delete()
            dropped.append(pk)
    return moved, dropped


def _account_merge(source: Citizen, into: Citizen) -> dict[str, Any]:
    """Settle the online accounts: one person keeps at most one (see citizen_merge)."""
    if source.user_id is None:
        return {"kept": into.user_id}
    if into.user_id is None:
        into.user_id, source.user_id = source.user_id, None
        source.save(update_fields=["user", "updated_at"])  # free the one-to-one first
        return {"kept": into.user_id, "moved_from_source": True}
    account = get_user_model()._default_manager.get(pk=source.user_id)
    deactivate = not (account.is_staff or account.is_superuser)
    if deactivate and account.is_active:
        account.is_active = False
        account.save(update_fields=["is_active"])
    return {"kept": into.user_id, "source_account": account.pk, "deactivated": deactivate}


def citizen_merge(*, source: Citizen, into: Citizen, actor: Actor, reason: str = "") -> Citizen:
    """Merge `source` into `into`, the person who carries on, and delete `source`.

    One transaction. Every row in any app that refers to `source` through a ForeignKey or
    OneToOneField is pointed at `into` (found through the model registry, see
    selectors.citizen_links): contact points (verified or not, as they were), consents,
    cases reported, follows, subscriptions, opt-outs, messages, notifications and the
    person's own PersonEvents. A row that would break a unique constraint because `into`
    already has its equivalent is deleted and counted. `into` keeps its name (unless it has
    none), language and channel. Accounts: if only `source` has one it moves to `into`; if
    both do, `into` keeps its own and `source`'s is deactivated (a staff account is only
    unlinked). Ids in other apps' records (e.g. case events) are not rewritten: the MERGED
    event maps the old id to the survivor. Raise ValidationFailed for a merge into itself,
    NotFound if either person is gone.
    """
    if source.pk == into.pk:
        raise ValidationFailed(
            _("A person cannot be merged into themselves."),
            details={"into": [_("Choose two different people.")]},
        )
    reason_check(reason)
    try:
        with transaction.atomic():
            locked = _citizens_lock(source.pk, into.pk)
            old, survivor = locked[source.pk], locked[into.pk]
            old_id, old_name = old.pk, old.display_name
            points = [
                point_data(p) for p in ContactPoint.objects.filter(citizen=old).order_by("pk")
            ]
            account = _account_merge(old, survivor)
            moved: dict[str, int] = {}
            dropped: dict[str, list[int]] = {}
            for rel in citizen_links():
                count, lost = _rows_repoint(rel, old, survivor)
                if count:
                    moved[link_label(rel)] = count
                if lost:
                    dropped[link_label(rel)] = lost
            name_taken = not survivor.display_name and bool(old_name)
            if name_taken:
                survivor.display_name = old_name
            survivor.save(update_fields=["display_name", "user", "updated_at"])
            old.delete()
            person_event_add(
                citizen=survivor,
                kind=PersonEventKind.MERGED,
                actor=actor,
                reason=reason,
                data={
                    "source_id": old_id,
                    "into_id": survivor.pk,
                    "source_name": old_name,
                    "name_from_source": name_taken,
                    "contact_points": points,
                    "moved": moved,
                    "dropped": {label: len(ids) for label, ids in dropped.items()},
                    "dropped_ids": dropped,
                    "account": account,
                },
            )
    except ProtectedError as exc:
        raise ValidationFailed(
            _("These people cannot be merged: a record that must be kept is in the way."),
            details={"source": [str(exc.args[0])]},
        ) from exc
    return survivor


def citizen_split(
    *,
    citizen: Citizen,
    contact_point_ids: Sequence[int],
    actor: Actor,
    reason: str = "",
    display_name: str = "",
) -> Citizen:
    """Move the chosen contact points of `citizen` to a new person and return that person.

    For two people wrongly taken for one. The new person gets `display_name` (or none)
    and `citizen`'s language and channel. Everything else stays with `citizen`: cases,
    follows, consents, subscriptions and the account (staff reassign cases if need be).
    A SPLIT event is written on both. Raise ValidationFailed if no point is chosen, all of
    them are, or one belongs to someone else.
    """
    wanted = {int(pk) for pk in contact_point_ids}
    if not wanted:
        raise ValidationFailed(
            _("Choose the contact points that belong to the other person."),
            details={"contact_points": [_("Choose at least one.")]},
        )
    if len(display_name.strip()) > NAME_MAX:
        raise ValidationFailed(
            _("That name is too long."),
            details={"display_name": [_("Keep it under %(max)d characters.") % {"max": NAME_MAX}]},
        )
    reason_check(reason)
    with transaction.atomic():
        original = _citizens_lock(citizen.pk)[citizen.pk]
        owned = list(
            ContactPoint.objects.select_for_update().filter(citizen=original).order_by("pk")
        )
        if wanted - {p.pk for p in owned}:
            raise ValidationFailed(
                _("Some of those contact points do not belong to this person."),
                details={"contact_points": [_("Choose only this person's contact points.")]},
            )
        if wanted == {p.pk for p in owned}:
            raise ValidationFailed(
                _("Leave at least one contact point with this person."),
                details={"contact_points": [_("To move everything, edit the person instead.")]},
            )
        new = Citizen.objects.create(
            display_name=display_name.strip(),
            preferred_language=original.preferred_language,
            preferred_channel=original.preferred_channel,
        )
        ContactPoint.objects.filter(pk__in=wanted).update(citizen=new, updated_at=clock.now())
        points = [point_data(p) for p in owned if p.pk in wanted]
        data = {"from_id": original.pk, "new_id": new.pk, "contact_points": points}
        person_event_add(
            citizen=original, kind=PersonEventKind.SPLIT, actor=actor, reason=reason, data=data
        )
        person_event_add(
            citizen=new, kind=PersonEventKind.SPLIT, actor=actor, reason=reason, data=data
        )
    return new


def contact_point_add(
    *, citizen: Citizen, kind: str, value: str, actor: Actor, verified: bool = False
) -> ContactPoint:
    """Give `citizen` a contact point (normalised); staff telling us once on their behalf.

    Return the existing point if `citizen` already has it. Raise ValidationFailed if the
    value is malformed or belongs to someone else (merge the two if they are one person).
    """
    if kind == ContactKind.EMAIL:
        value = email_normalise(value)
    elif kind == ContactKind.PHONE:
        value = phone_normalise(value, region=settings.TOWNHALL_PHONE_REGION)
    elif kind == ContactKind.HANDLE and value.strip():
        value = value.strip()[:254]  # as citizen_resolve stores handles
    else:
        raise ValidationFailed(
            _("Unknown kind of contact point."),
            details={"kind": [_("Use email, phone or handle.")]},
        )
    with transaction.atomic():
        existing = ContactPoint.objects.filter(kind=kind, value=value).first()
        if existing is not None and existing.citizen_id == citizen.pk:
            return existing
        if existing is not None:
            raise ValidationFailed(
                _("That contact point belongs to someone else."),
                details={
                    "value": [
                        _("It is person #%(id)d's; merge the two if they are one person.")
                        % {"id": existing.citizen_id}
                    ]
                },
            )
        point = ContactPoint.objects.create(
            citizen=citizen, kind=kind, value=value, verified=verified
        )
        person_event_add(
            citizen=citizen,
            kind=PersonEventKind.CONTACT_ADDED,
            actor=actor,
            data=point_data(point),
        )
    return point


def contact_point_verify(*, point: ContactPoint, actor: Actor, reason: str = "") -> ContactPoint:
    """Mark `point` as proven to reach its person (a code answered, seen at the counter).

    Nothing is written if it already is.
    """
    reason_check(reason)
    with transaction.atomic():
        locked = ContactPoint.objects.select_for_update().select_related("citizen").get(pk=point.pk)
        if not locked.verified:
            locked.verified = True
            locked.save(update_fields=["verified", "updated_at"])
            person_event_add(
                citizen=locked.citizen,
                kind=PersonEventKind.CONTACT_VERIFIED,
                actor=actor,
                reason=reason,
                data=point_data(locked),
            )
    return locked


def contact_point_move(
    *, point: ContactPoint, into: Citizen, actor: Actor, reason: str = ""
) -> ContactPoint:
    """Move one contact point to another existing person (it was theirs all along).

    Its verified flag goes with it. A CONTACT_MOVED event is written on both people.
    Raise ValidationFailed if it already belongs to `into`.
    """
    reason_check(reason)
    with transaction.atomic():
        locked = ContactPoint.objects.select_for_update().get(pk=point.pk)
        if locked.citizen_id == into.pk:
            raise ValidationFailed(
                _("That contact point already belongs to this person."),
                details={"into": [_("Choose another person.")]},
            )
        people = _citizens_lock(locked.citizen_id, into.pk)
        data = {**point_data(locked), "from_id": locked.citizen_id, "into_id": into.pk}
        locked.citizen = people[into.pk]
        locked.save(update_fields=["citizen", "updated_at"])
        for person in people.values():
            person_event_add(
                citizen=person,
                kind=PersonEventKind.CONTACT_MOVED,
                actor=actor,
                reason=reason,
                data=data,
            )
    return locked
