"""What every message Townhall writes shares, whoever writes it: the body fitted to its
channel and, for e-mail about a case, the reply-to address that brings an answer back to it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from townhall.notify.models import NotifyChannel
from townhall.notify.rendering import sms_fit
from townhall.notify.reply_address import reply_address_make

if TYPE_CHECKING:
    from townhall.cases.models import Case


def channel_fit(channel: str, body: str) -> str:
    """The body as sent on `channel`: a long note or link must not turn one text into a
    costly chain of them."""
    return sms_fit(body) if channel == NotifyChannel.SMS else body


def reply_to_for(channel: str, case: Case) -> str:
    """The reply-to address of a message about `case` (e-mail, once inbound mail is set up)."""
    domain: str = settings.TOWNHALL_INBOUND_EMAIL_DOMAIN
    if channel != NotifyChannel.EMAIL or not domain:
        return ""
    return reply_address_make(
        case.reference, domain=domain, secret=settings.TOWNHALL_REPLY_ADDRESS_SECRET
    )
