"""Writes for people: registering citizens, recognising them again, recording consent."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import ManyToOneRel, ProtectedError, Q
from django.utils.translation import gettext as _

from townhall.core import clock
from townhall.core.errors import NotFound, ValidationFailed
from townhall.people.contacts import email_normalise, phone_normalise
from townhall.people.models import (
    Channel,
    Citizen,
    ConsentPurpose,
    ConsentRecord,
    ContactKind,
    ContactPoint,
    PersonEvent,
    PersonEventKind,
    PhoneProof,
    ReportContact,
    SamePersonHint,
    SignInLink,
)
from townhall.people.roles import ROLE_PERMISSIONS, StaffRole
from townhall.people.selectors import citizen_links, link_label

NAME_MAX = 200
SIGN_IN_SALT = "townhall.portal.sign-in"
REASON_MAX = 500

Actor = AbstractBaseUser | None


def citizen_resolve(
    *,
    name: str = "",
    email: str | None = None,
    phone: str | None = None,
    handle: str | None = None,
    language: str | None = None,
    channel: str = Channel.WEB,
) -> Citizen:
    """Return the citizen a message's contacts lead to, registering one if none does.

    Tell us once, but only what is proven: a resident who wrote by e-mail and writes
    again from the same address is the same citizen. A message is not proof that the
    contacts it carries belong together, so a contact never seen before is never joined
    to a person we already know through another contact (anyone can type a neighbour's
    phone number next to their own e-mail). Then the new contacts go to a new, separate
    citizen who is the reporter, and staff see "possibly the same person" (a
    SamePersonHint) to merge. Contacts are joined only by proof: the sign-in link for an
    e-mail (citizen_account_for_email), an SMS code for a phone (phone_proof_check), or
    a staff merge. Raise ValidationFailed if a contact value is malformed or the name too
    long.
    """
    if len(name.strip()) > NAME_MAX:
        raise ValidationFailed(
            "That name is too long.", details={"name": [f"Keep it under {NAME_MAX} characters."]}
        )
    points = _points_of(email=email, phone=phone, handle=handle)
    with transaction.atomic():
        known = {
            (p.kind, p.value): p
            for p in ContactPoint.objects.select_related("citizen").filter(_points_filter(points))
        }
        owners: list[Citizen] = []
        for point in points:
            found = known.get(point)
            if found is not None and found.citizen not in owners:
                owners.append(found.citizen)
        unknown = [point for point in points if point not in known]
        if len(owners) == 1 and not unknown:
            return owners[0]
        if owners and not unknown:
            citizen = owners[0]  # contacts of two people in one message: nothing new to hold
        else:
            citizen = Citizen.objects.create(
                display_name=name.strip(),
                preferred_language=language or settings.LANGUAGE_CODE,
                preferred_channel=channel if channel in Channel.values else Channel.EMAIL,
            )
            for kind, value in unknown:
                _contact_point_attach(citizen=citizen, kind=kind, value=value)
        for owner in owners:
            if owner.pk != citizen.pk:
                same_person_hint_add(
                    citizen=citizen, other=owner, reason="contacts given together in one message"
                )
    return citizen


def _points_of(
    *, email: str | None = None, phone: str | None = None, handle: str | None = None
) -> list[tuple[str, str]]:
    """The normalised (kind, value) of each contact given; raise ValidationFailed."""
    points: list[tuple[str, str]] = []
    if email:
        points.append((ContactKind.EMAIL, email_normalise(email)))
    if phone:
        points.append(
            (ContactKind.PHONE, phone_normalise(phone, region=settings.TOWNHALL_PHONE_REGION))
        )
    if handle and handle.strip():
        # A social-media or partner handle, e.g. "x:@millbrook_jo": matched exactly.
        points.append((ContactKind.HANDLE, handle.strip()[:254]))
    return points


def _points_filter(points: Sequence[tuple[str, str]]) -> Q:
    query = Q(pk__in=[])
    for kind, value in points:
        query |= Q(kind=kind, value=value)
    return query


def _contact_point_attach(*, citizen: Citizen, kind: str, value: str) -> None:
    if ContactPoint.objects.filter(kind=kind, value=value).exists():
        return
    try:
        with transaction.atomic():
            ContactPoint.objects.create(citizen=citizen, kind=kind, value=value)
    except IntegrityError:
        # Another request registered the same value a moment ago; it keeps it.
        return


def same_person_hint_add(*, citizen: Citizen, other: Citizen, reason: str = "") -> None:
    """Tell staff that `citizen` and `other` may be one person (a hint, never a join)."""
    if citizen.pk == other.pk:
        return
    low, high = sorted((citizen.pk, other.pk))
    try:
        with transaction.atomic():
            SamePersonHint.objects.get_or_create(
                citizen_id=low,
                other_id=high,
                defaults={"reason": reason[:200], "created_at": clock.now()},
            )
    except IntegrityError:
        return  # recorded a moment ago by another request


def report_contacts_record(
    *,
    case_id: int,
    email: str | None = None,
    phone: str | None = None,
    handle: str | None = None,
) -> int:
    """Record the contacts given with the report that opened `case_id` ("self-given").

    Whoever sent it may be told about that case there; see selectors.case_contacts.
    Malformed values are skipped (the report itself was already accepted). Return how
    many were recorded.
    """
    try:
        points = _points_of(email=email, phone=phone, handle=handle)
    except ValidationFailed:
        return 0
    if not points:
        return 0
    now = clock.now()
    rows = [
        ReportContact(case_id=case_id, contact_point=point, at=now)
        for point in ContactPoint.objects.filter(_points_filter(points))
    ]
    ReportContact.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def consent_record(
    *,
    citizen: Citizen,
    purpose: ConsentPurpose,
    granted: bool,
    at: datetime,
    channel: str,
    wording: str = "",
) -> ConsentRecord:
    """Record that `citizen` gave or withdrew consent for `purpose`."""
    return ConsentRecord.objects.create(
        citizen=citizen, purpose=purpose, granted=granted, at=at, channel=channel, wording=wording
    )


def staff_roles_ensure() -> dict[str, Group]:
    """Create or refresh one auth group per staff role with that role's permissions."""
    groups: dict[str, Group] = {}
    with transaction.atomic():
        for role, codenames in ROLE_PERMISSIONS.items():
            group, _ = Group.objects.get_or_create(name=role.value)
            wanted = [tuple(code.split(".", 1)) for code in codenames]
            perms = Permission.objects.filter(
                content_type__app_label__in={app for app, _ in wanted},
                codename__in={name for _, name in wanted},
            ).select_related("content_type")
            group.permissions.set(
                [p for p in perms if (p.content_type.app_label, p.codename) in set(wanted)]
            )
            groups[role.value] = group
    return groups


def staff_user_create(
    *,
    username: str,
    role: StaffRole,
    password: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> AbstractUser:
    """Create a staff account in `role`'s group (council admins are superusers)."""
    groups = staff_roles_ensure()
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.create_user(
            username=username,
            password=password,
            email=email,
            first_name=first_name,
            last_name=last_name,
            is_staff=True,
            is_superuser=role == StaffRole.COUNCIL_ADMIN,
        )
        user.groups.add(groups[role.value])
    return user


def citizen_email_prove(
    *, email: str, language: str | None = None, proof: str = "sign-in link"
) -> Citizen:
    """Return the citizen `email` belongs to, now that its owner proved it (they opened a
    one-time link we sent to it: `proof` names which), with that contact marked verified.

    A resident never seen before is registered. Raise ValidationFailed if `email` is
    malformed.
    """
    value = email_normalise(email)
    with transaction.atomic():
        citizen = citizen_resolve(email=value, language=language, channel=Channel.EMAIL)
        unproven = ContactPoint.objects.filter(
            citizen=citizen, kind=ContactKind.EMAIL, value=value, verified=False
        )
        for point in unproven.select_for_update():
            point.verified = True
            point.save(update_fields=["verified", "updated_at"])
            _person_event(
                citizen=citizen,
                kind=PersonEventKind.CONTACT_VERIFIED,
                actor=None,
                actor_label=proof,
                data=_point_data(point),
            )
    return citizen


def citizen_account_for_email(*, email: str, language: str | None = None) -> Citizen:
    """Return the citizen who proved they own `email` (a sign-in link), with an account.

    The e-mail contact point is marked verified; a resident never seen before is
    registered; the account is a plain user with no password (sign-in is by link only)
    and never a staff account. Raise ValidationFailed if `email` is malformed.
    """
    with transaction.atomic():
        citizen = citizen_email_prove(email=email, language=language)
        if citizen.user_id is None:
            user = get_user_model().objects.create_user(username=f"resident-{citizen.pk}")
            user.set_unusable_password()
            user.save(update_fields=["password"])
            citizen.user = user
            citizen.save(update_fields=["user", "updated_at"])
    return citizen


def citizen_profile_update(
    *, citizen: Citizen, display_name: str, preferred_language: str, preferred_channel: str
) -> Citizen:
    """Save what a resident tells us once about themselves."""
    if len(display_name.strip()) > NAME_MAX:
        raise ValidationFailed(
            "That name is too long.", details={"name": [f"Keep it under {NAME_MAX} characters."]}
        )
    citizen.display_name = display_name.strip()
    citizen.preferred_language = preferred_language
    citizen.preferred_channel = preferred_channel
    citizen.save(
        update_fields=["display_name", "preferred_language", "preferred_channel", "updated_at"]
    )
    return citizen


# --- identity: merge, split and contact points, each with its PersonEvent ------------------


def _person_event(
    *,
    citizen: Citizen,
    kind: PersonEventKind,
    actor: Actor,
    data: dict[str, Any],
    reason: str = "",
    actor_label: str = "",
) -> PersonEvent:
    return PersonEvent.objects.create(
        citizen=citizen,
        subject_id=citizen.pk,
        kind=kind,
        at=clock.now(),
        actor_id=actor.pk if actor is not None else None,
        actor_label=actor_label or (actor.get_username() if actor is not None else "system"),
        reason=reason.strip(),
        data=data,
    )


def _point_data(point: ContactPoint) -> dict[str, Any]:
    return {
        "contact_point_id": point.pk,
        "kind": point.kind,
        "value": point.value,
        "verified": point.verified,
    }


def _reason_check(reason: str) -> None:
    if len(reason.strip()) > REASON_MAX:
        raise ValidationFailed(
            _("That reason is too long."),
            details={"reason": [_("Keep it under %(max)d characters.") % {"max": REASON_MAX}]},
        )


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
    _reason_check(reason)
    try:
        with transaction.atomic():
            locked = _citizens_lock(source.pk, into.pk)
            old, survivor = locked[source.pk], locked[into.pk]
            old_id, old_name = old.pk, old.display_name
            points = [
                _point_data(p) for p in ContactPoint.objects.filter(citizen=old).order_by("pk")
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
            _person_event(
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
    _reason_check(reason)
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
        points = [_point_data(p) for p in owned if p.pk in wanted]
        data = {"from_id": original.pk, "new_id": new.pk, "contact_points": points}
        _person_event(
            citizen=original, kind=PersonEventKind.SPLIT, actor=actor, reason=reason, data=data
        )
        _person_event(
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
        _person_event(
            citizen=citizen,
            kind=PersonEventKind.CONTACT_ADDED,
            actor=actor,
            data=_point_data(point),
        )
    return point


def contact_point_verify(*, point: ContactPoint, actor: Actor, reason: str = "") -> ContactPoint:
    """Mark `point` as proven to reach its person (a code answered, seen at the counter).

    Nothing is written if it already is.
    """
    _reason_check(reason)
    with transaction.atomic():
        locked = ContactPoint.objects.select_for_update().select_related("citizen").get(pk=point.pk)
        if not locked.verified:
            locked.verified = True
            locked.save(update_fields=["verified", "updated_at"])
            _person_event(
                citizen=locked.citizen,
                kind=PersonEventKind.CONTACT_VERIFIED,
                actor=actor,
                reason=reason,
                data=_point_data(locked),
            )
    return locked


def contact_point_move(
    *, point: ContactPoint, into: Citizen, actor: Actor, reason: str = ""
) -> ContactPoint:
    """Move one contact point to another existing person (it was theirs all along).

    Its verified flag goes with it. A CONTACT_MOVED event is written on both people.
    Raise ValidationFailed if it already belongs to `into`.
    """
    _reason_check(reason)
    with transaction.atomic():
        locked = ContactPoint.objects.select_for_update().get(pk=point.pk)
        if locked.citizen_id == into.pk:
            raise ValidationFailed(
                _("That contact point already belongs to this person."),
                details={"into": [_("Choose another person.")]},
            )
        people = _citizens_lock(locked.citizen_id, into.pk)
        data = {**_point_data(locked), "from_id": locked.citizen_id, "into_id": into.pk}
        locked.citizen = people[into.pk]
        locked.save(update_fields=["citizen", "updated_at"])
        for person in people.values():
            _person_event(
                citizen=person,
                kind=PersonEventKind.CONTACT_MOVED,
                actor=actor,
                reason=reason,
                data=data,
            )
    return locked


# --- proof: single-use sign-in links and SMS codes --------------------------------------


def _digest(secret: str) -> str:
    """A keyed hash of a token or code: what the database keeps instead of it."""
    return hmac.new(settings.SECRET_KEY.encode(), secret.encode(), hashlib.sha256).hexdigest()


def sign_in_link_issue(*, email: str, minutes: int) -> str:
    """Make a sign-in token for `email`, valid `minutes`, usable once; return the token.

    The token is the address signed with the secret key (so the database holds no
    address) and a random nonce; only its hash is stored, with its expiry.
    """
    token = signing.TimestampSigner(salt=SIGN_IN_SALT).sign_object(
        {"e": email.strip(), "n": secrets.token_urlsafe(16)}
    )
    now = clock.now()
    SignInLink.objects.create(
        token_hash=_digest(token), created_at=now, expires_at=now + timedelta(minutes=minutes)
    )
    return token


def sign_in_link_redeem(*, token: str) -> str | None:
    """Return the e-mail a fresh, unused sign-in token proves, marking it used; else None.

    Single use in every process: the row is marked used by one conditional UPDATE, so of
    two requests racing with the same token exactly one wins.
    """
    try:
        payload = signing.TimestampSigner(salt=SIGN_IN_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("e"), str):
        return None
    now = clock.now()
    won = SignInLink.objects.filter(
        token_hash=_digest(token), used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    return str(payload["e"]) if won == 1 else None


def proofs_purge(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete sign-in links and phone codes that expired more than `older_than` ago (they
    can prove nothing any more); return how many rows went."""
    cutoff = clock.now() - older_than
    links, _rows = SignInLink.objects.filter(expires_at__lt=cutoff).delete()
    codes, _rows = PhoneProof.objects.filter(expires_at__lt=cutoff).delete()
    return links + codes


class PhoneProofResult(StrEnum):
    PROVEN = "proven"
    WRONG = "wrong"  # a wrong code, attempts remain
    EXPIRED = "expired"  # no live code: too old, too many attempts, or none asked for


def phone_proof_start(*, citizen: Citizen, phone: str) -> tuple[PhoneProof, str]:
    """Start proving that `citizen` holds `phone`: return the proof row and the code to text.

    The code (six digits) is returned once, to be sent through the notify outbox; only
    its keyed hash is kept. An earlier unused code for the same citizen stops working.
    Raise ValidationFailed if `phone` is not a phone number.
    """
    value = phone_normalise(phone, region=settings.TOWNHALL_PHONE_REGION)
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = clock.now()
    with transaction.atomic():
        PhoneProof.objects.filter(citizen=citizen, used_at__isnull=True).update(used_at=now)
        proof = PhoneProof.objects.create(
            citizen=citizen,
            value=value,
            code_hash=_digest(f"{citizen.pk}:{value}:{code}"),
            created_at=now,
            expires_at=now + timedelta(minutes=settings.TOWNHALL_PHONE_CODE_MINUTES),
        )
    return proof, code


def phone_proof_check(
    *, citizen: Citizen, code: str
) -> tuple[PhoneProofResult, ContactPoint | None]:
    """Check a code `citizen` typed against their latest live phone proof.

    A right code makes the phone theirs and verified: a point they already have is
    verified; a number nobody has is added; a number held by another person moves to
    them (they hold it now; the other person keeps their cases) and staff are told the
    two may be one person. Each wrong code counts; after TOWNHALL_PHONE_CODE_ATTEMPTS
    the code stops working.
    """
    now = clock.now()
    with transaction.atomic():
        proof = (
            PhoneProof.objects.select_for_update()
            .filter(citizen=citizen, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at", "-id")
            .first()
        )
        if proof is None or proof.attempts >= settings.TOWNHALL_PHONE_CODE_ATTEMPTS:
            return PhoneProofResult.EXPIRED, None
        expected = _digest(f"{citizen.pk}:{proof.value}:{code.strip()}")
        if not hmac.compare_digest(expected, proof.code_hash):
            proof.attempts += 1
            proof.save(update_fields=["attempts"])
            if proof.attempts >= settings.TOWNHALL_PHONE_CODE_ATTEMPTS:
                return PhoneProofResult.EXPIRED, None
            return PhoneProofResult.WRONG, None
        proof.used_at = now
        proof.save(update_fields=["used_at"])
        point = _phone_point_claim(citizen=citizen, value=proof.value)
    return PhoneProofResult.PROVEN, point


def _phone_point_claim(*, citizen: Citizen, value: str) -> ContactPoint:
    label = "SMS code"
    point = ContactPoint.objects.filter(kind=ContactKind.PHONE, value=value).first()
    if point is None:
        point = ContactPoint.objects.create(
            citizen=citizen, kind=ContactKind.PHONE, value=value, verified=False
        )
        _person_event(
            citizen=citizen,
            kind=PersonEventKind.CONTACT_ADDED,
            actor=None,
            actor_label=label,
            data=_point_data(point),
        )
    elif point.citizen_id != citizen.pk:
        before = Citizen.objects.get(pk=point.citizen_id)
        point = contact_point_move(point=point, into=citizen, actor=None, reason=label)
        same_person_hint_add(citizen=citizen, other=before, reason="phone proven by SMS code")
    return contact_point_verify(point=point, actor=None, reason=label)


# --- erasure -------------------------------------------------------------------------------


def citizen_erase(
    *, citizen: Citizen, actor: Actor, summary: dict[str, int] | None = None
) -> PersonEvent:
    """Remove a resident and every personal detail people holds about them.

    The contact points and consents go with the citizen row; the contact values and the
    free-text reasons in their history are blanked (the history itself stays, with ids
    only); a resident's sign-in account is emptied and disabled (a staff account is only
    unlinked). Other apps clear their own rows first (intake.privacy orchestrates). One
    ERASED PersonEvent records it, holding `summary` (counts) and no personal data.
    """
    with transaction.atomic():
        locked = Citizen.objects.select_for_update().get(pk=citizen.pk)
        values = list(ContactPoint.objects.filter(citizen=locked).values_list("value", flat=True))
        history = PersonEvent.objects.filter(subject_id=locked.pk) | PersonEvent.objects.filter(
            citizen=locked
        )
        if values:
            history = history | PersonEvent.objects.filter(data__value__in=values)
        for event in history.distinct():
            data = dict(event.data or {})
            for key in ("value", "display_name", "name"):
                if key in data:
                    data[key] = ""
            event.data = data
            event.reason = ""
            event.save(update_fields=["data", "reason"])
        user = locked.user
        if user is not None and not user.is_staff and not user.is_superuser:
            get_user_model().objects.filter(pk=user.pk).update(
                username=f"erased-{user.pk}",
                email="",
                first_name="",
                last_name="",
                is_active=False,
                password=UNUSABLE_PASSWORD_PREFIX,  # no password can match
            )
        # The admin's own change log names the person it changed ("Rosa Smith") and lists
        # changed contact points: keep the entries, without the name.
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Citizen), object_id=str(locked.pk)
        ).update(object_repr=f"Citizen #{locked.pk}", change_message="")
        subject_id = locked.pk
        locked.delete()
        return PersonEvent.objects.create(
            citizen=None,
            subject_id=subject_id,
            kind=PersonEventKind.ERASED,
            at=clock.now(),
            actor_id=actor.pk if actor is not None else None,
            actor_label=actor.get_username() if actor is not None else "resident",
            data=dict(summary or {}),
        )
