"""One way to queue a templated message that is not about a case event: the kind's
template in the recipient's language, rendered, written once per key, senders woken."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from townhall.notify.models import Notification, NotificationStatus, NotifyChannel, OptOut
from townhall.notify.rendering import sms_fit, template_render
from townhall.notify.selectors import notification_template_get
from townhall.notify.sending import senders_wake
from townhall.people.models import Citizen


def templated_queue(
    *,
    key: str,
    kind: str,
    channel: str,
    to: str,
    values: dict[str, str],
    language: str = "",
    citizen: Citizen | None = None,
    user: Any = None,
    case_id: int | None = None,
    honour_opt_out: bool = True,
) -> Notification:
    """Queue `kind` to `to` on `channel`, rendered from its template with `values`, and
    return the row; `key` makes a repeat return the first row instead.

    A resident's opt-out of the channel suppresses it (unless `honour_opt_out` is False:
    a message they asked for this minute, such as a sign-in link). Raise LookupError if
    the kind has no template for the channel.
    """
    template = notification_template_get(
        kind=kind, channel=channel, language=language or settings.LANGUAGE_CODE
    )
    body = template_render(template.body, values)
    status = NotificationStatus.QUEUED
    if (
        honour_opt_out
        and citizen is not None
        and OptOut.objects.filter(citizen=citizen, channel=channel).exists()
    ):
        status = NotificationStatus.SUPPRESSED
    try:
        with transaction.atomic():
            made = Notification.objects.create(
                key=key[:200],
                kind=kind,
                channel=channel,
                language=template.language,
                citizen=citizen,
                user=user,
                case_id=case_id,
                to=to,
                subject=template_render(template.subject, values)[:300],
                body=sms_fit(body) if channel == NotifyChannel.SMS else body,
                status=status,
            )
    except IntegrityError:
        return Notification.objects.get(key=key[:200])
    if made.status == NotificationStatus.QUEUED:
        senders_wake()
    return made
