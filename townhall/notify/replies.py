"""Answers to what residents send, and the messages they ask for themselves: a reply to an
e-mail or text, the text carrying a phone-proving code, the e-mail confirming a follow.
Through the outbox like every message; each call's key makes a repeat a no-op."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from townhall.cases.models import Case
from townhall.catalog.i18n import localized
from townhall.notify.models import (
    Notification,
    NotificationKind,
    NotificationStatus,
    NotifyChannel,
    OptOut,
)
from townhall.notify.outgoing import channel_fit
from townhall.notify.rendering import template_render
from townhall.notify.selectors import notification_template_get
from townhall.notify.sending import senders_wake
from townhall.people.models import Citizen


def notification_reply(
    *,
    key: str,
    channel: str,
    to: str,
    body: str,
    subject: str = "",
    citizen: Citizen | None = None,
    case_id: int | None = None,
    language: str = "",
) -> Notification:
    """Queue an answer to something a resident sent (an e-mail or a text), through the
    outbox like every other message; `key` makes a repeated answer a no-op."""
    status = NotificationStatus.QUEUED
    if citizen is not None and OptOut.objects.filter(citizen=citizen, channel=channel).exists():
        status = NotificationStatus.SUPPRESSED
    try:
        with transaction.atomic():
            made = Notification.objects.create(
                key=key[:200],
                kind=NotificationKind.REPLY,
                channel=channel,
                language=language or settings.LANGUAGE_CODE,
                citizen=citizen,
                case_id=case_id,
                to=to,
                subject=subject[:300],
                body=channel_fit(channel, body),
                status=status,
            )
    except IntegrityError:
        return Notification.objects.get(key=key[:200])
    if made.status == NotificationStatus.QUEUED:
        senders_wake()
    return made


def notification_phone_code(
    *, key: str, citizen: Citizen, to: str, code: str, council: str = ""
) -> Notification:
    """Queue the text carrying a one-time code that proves `to` is `citizen`'s phone.

    Through the outbox like every message, in the resident's language (PHONE_CODE
    templates). Sent at once, even in the quiet hours (the resident is waiting for it),
    and even after an opt-out of SMS updates (it is not an update; they asked for it).
    `key` makes a repeat a no-op. The code itself is kept only as a hash by people.
    """
    language = citizen.preferred_language or settings.LANGUAGE_CODE
    template = notification_template_get(
        kind=NotificationKind.PHONE_CODE, channel=NotifyChannel.SMS, language=language
    )
    values = {"code": code, "council": council or "Townhall"}
    try:
        with transaction.atomic():
            made = Notification.objects.create(
                key=key[:200],
                kind=NotificationKind.PHONE_CODE,
                channel=NotifyChannel.SMS,
                language=template.language,
                citizen=citizen,
                to=to,
                subject=template_render(template.subject, values),
                body=channel_fit(NotifyChannel.SMS, template_render(template.body, values)),
                status=NotificationStatus.QUEUED,
            )
    except IntegrityError:
        return Notification.objects.get(key=key[:200])
    senders_wake()
    return made


def follow_confirmation_queue(
    *, case: Case, email: str, request_id: int, language: str = ""
) -> Notification:
    """Queue the e-mail that asks `email` to confirm it wants to follow `case`: the only
    message an address gets before it is confirmed. Its link, holding a one-time secret,
    is made as it is sent (notify.secret_links: never stored); one message per
    `request_id` (cases.FollowRequest), so a repeated call is a no-op."""
    from townhall.notify.secret_links import LINK_SLOT

    key = f"follow-confirm:{request_id}"
    template = notification_template_get(
        kind=NotificationKind.FOLLOW_CONFIRM,
        channel=NotifyChannel.EMAIL,
        language=language or settings.LANGUAGE_CODE,
    )
    values = {
        "reference": case.reference,
        "service": localized(case.service_type, "name", template.language),
        "confirm_url": LINK_SLOT,
        "council": case.service_type.jurisdiction.name,
    }
    try:
        with transaction.atomic():
            made = Notification.objects.create(
                key=key[:200],
                kind=NotificationKind.FOLLOW_CONFIRM,
                channel=NotifyChannel.EMAIL,
                language=template.language,
                case_id=case.pk,
                to=email,
                subject=template_render(template.subject, values)[:300],
                body=template_render(template.body, values),
            )
    except IntegrityError:
        return Notification.objects.get(key=key[:200])
    senders_wake()
    return made
