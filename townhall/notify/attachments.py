"""Files sent with an e-mail (a calendar entry with an appointment), made when it is sent.

The outbox stores no files: an app above notify names, per notification kind, a function
that returns the attachments of one notification, (filename, content, MIME type) each, in
``settings.TOWNHALL_NOTIFY_ATTACHMENTS`` ({kind: dotted path}). The sender calls it just
before handing an e-mail to its channel, so a retry sends the file as it stands then.
Other channels carry no attachments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from townhall.notify.models import Notification, NotifyChannel

Attachment = tuple[str, bytes, str]


def _maker(kind: str) -> Callable[[Notification], Any] | None:
    path = getattr(settings, "TOWNHALL_NOTIFY_ATTACHMENTS", {}).get(kind)
    return import_string(path) if path else None


def message_attachments(notification: Notification) -> tuple[Attachment, ...]:
    """The attachments of `notification` (none unless it is an e-mail of a kind with a maker)."""
    if notification.channel != NotifyChannel.EMAIL:
        return ()
    maker = _maker(notification.kind)
    if maker is None:
        return ()
    return tuple((str(n), bytes(c), str(m)) for n, c, m in maker(notification))
