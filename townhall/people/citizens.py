"""Registering citizens and recognising them again; consent; staff accounts; a resident's
own account and profile."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from townhall.core import clock
from townhall.core.errors import ValidationFailed
from townhall.people.contacts import email_normalise, phone_normalise
from townhall.people.history import (
    NAME_MAX,
    person_event_add,
    point_data,
)
from townhall.people.models import (
    Channel,
    Citizen,
    ConsentPurpose,
    ConsentRecord,
    ContactKind,
    ContactPoint,
    PersonEventKind,
    ReportContact,
    SamePersonHint,
)
from townhall.people.roles import ROLE_PERMISSIONS, StaffRole


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
    # No savepoint inside a caller's transaction (intake's): nothing in here is retried,
    # and every round trip counts on the busiest write path.
    with transaction.atomic(savepoint=False):
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
            _contact_points_attach(citizen=citizen, points=unknown)
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


def _contact_points_attach(*, citizen: Citizen, points: Sequence[tuple[str, str]]) -> None:
    """Give `citizen` the contact points no one holds, in one statement. A value another
    request registered a moment ago stays with it (ON CONFLICT DO NOTHING)."""
    ContactPoint.objects.bulk_create(
        [ContactPoint(citizen=citizen, kind=kind, value=value) for kind, value in points],
        ignore_conflicts=True,
    )


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
    # INSERT ... SELECT: the points are found and linked in one round trip (this runs on
    # every report that gives a contact, while the resident or API client waits).
    where = " OR ".join(["(kind = %s AND value = %s)"] * len(points))
    sql = (
        f"INSERT INTO {ReportContact._meta.db_table} (case_id, contact_point_id, at) "  # noqa: S608
        f"SELECT %s, id, %s FROM {ContactPoint._meta.db_table} WHERE {where} "
        "ON CONFLICT DO NOTHING"
    )
    params: list[int | str | datetime] = [case_id, clock.now()]
    for kind, value in points:
        params += [kind, value]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted: int = cursor.rowcount
    return max(inserted, 0)


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
            person_event_add(
                citizen=citizen,
                kind=PersonEventKind.CONTACT_VERIFIED,
                actor=None,
                actor_label=proof,
                data=point_data(point),
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
