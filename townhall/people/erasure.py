"""Erasure: a resident and every personal detail people holds about them."""

from __future__ import annotations

from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from townhall.core import clock
from townhall.people.history import (
    Actor,
)
from townhall.people.models import (
    Citizen,
    ContactPoint,
    PersonEvent,
    PersonEventKind,
)


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
