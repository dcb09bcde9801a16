"""Writes for people: registering citizens, recognising them again, recording consent."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.db import IntegrityError, transaction

from townhall.core.errors import ValidationFailed
from townhall.people.contacts import email_normalise, phone_normalise
from townhall.people.models import (
    Channel,
    Citizen,
    ConsentPurpose,
    ConsentRecord,
    ContactKind,
    ContactPoint,
)
from townhall.people.roles import ROLE_PERMISSIONS, StaffRole

NAME_MAX = 200


def citizen_resolve(
    *,
    name: str = "",
    email: str | None = None,
    phone: str | None = None,
    language: str | None = None,
    channel: str = Channel.WEB,
) -> Citizen:
    """Return the citizen owning `email` or `phone`, registering one if none does.

    Tell us once: a resident who wrote by e-mail and later texts from a known phone is
    the same citizen. New contact points are attached to the citizen found.
    Raise ValidationFailed if a contact value is malformed or the name too long.
    """
    if len(name.strip()) > NAME_MAX:
        raise ValidationFailed(
            "That name is too long.", details={"name": [f"Keep it under {NAME_MAX} characters."]}
        )
    points: list[tuple[str, str]] = []
    if email:
        points.append((ContactKind.EMAIL, email_normalise(email)))
    if phone:
        points.append(
            (ContactKind.PHONE, phone_normalise(phone, region=settings.TOWNHALL_PHONE_REGION))
        )
    with transaction.atomic():
        citizen = _citizen_by_points(points)
        if citizen is None:
            citizen = Citizen.objects.create(
                display_name=name.strip(),
                preferred_language=language or settings.LANGUAGE_CODE,
                preferred_channel=channel if channel in Channel.values else Channel.EMAIL,
            )
        elif name and not citizen.display_name:
            citizen.display_name = name.strip()
            citizen.save(update_fields=["display_name", "updated_at"])
        for kind, value in points:
            _contact_point_attach(citizen=citizen, kind=kind, value=value)
    return citizen


def _citizen_by_points(points: list[tuple[str, str]]) -> Citizen | None:
    for kind, value in points:
        point = (
            ContactPoint.objects.select_related("citizen").filter(kind=kind, value=value).first()
        )
        if point is not None:
            return point.citizen
    return None


def _contact_point_attach(*, citizen: Citizen, kind: str, value: str) -> None:
    if ContactPoint.objects.filter(kind=kind, value=value).exists():
        return
    try:
        with transaction.atomic():
            ContactPoint.objects.create(citizen=citizen, kind=kind, value=value)
    except IntegrityError:
        # Another request registered the same value a moment ago; it keeps it.
        return


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


def citizen_account_for_email(*, email: str, language: str | None = None) -> Citizen:
    """Return the citizen who proved they own `email` (a sign-in link), with an account.

    The e-mail contact point is marked verified; a resident never seen before is
    registered; the account is a plain user with no password (sign-in is by link only)
    and never a staff account. Raise ValidationFailed if `email` is malformed.
    """
    value = email_normalise(email)
    with transaction.atomic():
        citizen = citizen_resolve(email=value, language=language, channel=Channel.EMAIL)
        ContactPoint.objects.filter(
            citizen=citizen, kind=ContactKind.EMAIL, value=value, verified=False
        ).update(verified=True)
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
