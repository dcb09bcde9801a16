"""Opting out: a resident stops a channel (one-click link, STOP reply) or starts it again."""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.db import transaction

from townhall.core.errors import NotFound
from townhall.notify.links import OPT_OUT_SALT
from townhall.notify.models import Notification, NotificationStatus, NotifyChannel, OptOut
from townhall.people.models import Citizen, ContactKind
from townhall.people.selectors import citizen_by_contact

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})


def opt_out_record(*, citizen: Citizen, channel: str, via: str) -> OptOut:
    """Stop sending `citizen` messages on `channel` and drop what is still queued there."""
    with transaction.atomic():
        opt_out, _ = OptOut.objects.get_or_create(
            citizen=citizen, channel=channel, defaults={"via": via}
        )
        Notification.objects.filter(
            citizen=citizen, channel=channel, status=NotificationStatus.QUEUED
        ).update(status=NotificationStatus.SUPPRESSED)
    return opt_out


def opt_out_by_token(*, token: str) -> OptOut:
    """Apply a one-click opt-out link; raise NotFound if the link is not one of ours."""
    try:
        data: dict[str, Any] = signing.loads(token, salt=OPT_OUT_SALT)
        citizen = Citizen.objects.get(pk=int(data["c"]))
        channel = NotifyChannel(data["ch"])
    except (signing.BadSignature, KeyError, ValueError, TypeError, Citizen.DoesNotExist) as exc:
        raise NotFound("That link is not valid.") from exc
    return opt_out_record(citizen=citizen, channel=channel, via="link")


def sms_inbound_keyword(*, from_number: str, body: str) -> str | None:
    """Apply STOP/START replies from a phone; return the reply to send, or None if not a keyword."""
    word = body.strip().upper()
    if word not in STOP_WORDS | START_WORDS:
        return None
    citizen = citizen_by_contact(kind=ContactKind.PHONE, value=from_number)
    if word == "YES" and (
        citizen is None
        or not OptOut.objects.filter(citizen=citizen, channel=NotifyChannel.SMS).exists()
    ):
        return None  # not a "texts back on": an answer, for the intake pipeline
    if word in STOP_WORDS:
        if citizen is not None:
            opt_out_record(citizen=citizen, channel=NotifyChannel.SMS, via="stop_reply")
        return "You will get no more texts from us. Reply START to get them again."
    if citizen is not None:
        OptOut.objects.filter(citizen=citizen, channel=NotifyChannel.SMS).delete()
    return "Texts are back on. Reply STOP to stop them."
