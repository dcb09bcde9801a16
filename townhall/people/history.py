"""What every write to a person leaves behind: a PersonEvent, with the limits its texts keep."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.translation import gettext as _

from townhall.core import clock
from townhall.core.errors import ValidationFailed
from townhall.people.models import (
    Citizen,
    ContactPoint,
    PersonEvent,
    PersonEventKind,
)

NAME_MAX = 200
REASON_MAX = 500

Actor = AbstractBaseUser | None


def person_event_add(
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


def point_data(point: ContactPoint) -> dict[str, Any]:
    return {
        "contact_point_id": point.pk,
        "kind": point.kind,
        "value": point.value,
        "verified": point.verified,
    }


def reason_check(reason: str) -> None:
    if len(reason.strip()) > REASON_MAX:
        raise ValidationFailed(
            _("That reason is too long."),
            details={"reason": [_("Keep it under %(max)d characters.") % {"max": REASON_MAX}]},
        )
