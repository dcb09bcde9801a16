"""Links that carry a secret (a sign-in link, a confirmation link) are made when the
message is sent, never stored.

The outbox keeps every message's body for staff to see and for retries; a body holding a
working sign-in link would be a key to someone's account sitting in the database, its
backups and the admin. So such a message is queued with `LINK_SLOT` where the link goes,
and the sender asks `secret_link_make` for a fresh link just before handing the message to
its channel; the link lives only in memory and in the sent e-mail. A retry makes a new
link (the old one, never delivered, is useless: a sign-in link's token is only stored as
a hash, and a confirmation's previous hash is replaced).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

from django.conf import settings
from django.urls import reverse

from townhall.notify.channels import ChannelError
from townhall.notify.links import public_url
from townhall.notify.models import (
    Notification,
    NotificationKind,
    NotifyChannel,
    SubscriptionRequest,
)

# What the stored body holds where the link will be: readable in the admin, and not a
# placeholder a council could type into a template.
LINK_SLOT = "[link made when the message is sent]"


def token_digest(token: str) -> str:
    """A keyed hash of a link's secret: what the database keeps instead of it."""
    return hmac.new(settings.SECRET_KEY.encode(), token.encode(), hashlib.sha256).hexdigest()


def _sign_in_link(notification: Notification) -> str:
    from townhall.people.services import sign_in_link_issue

    token = sign_in_link_issue(
        email=notification.to, minutes=settings.TOWNHALL_SIGN_IN_LINK_MINUTES
    )
    return public_url(reverse("portal:sign-in-link", args=[token]))


def _subscription_confirm_link(notification: Notification) -> str:
    # The key is "subscribe-confirm:<request id>" (subscriptions.subscription_request_make).
    request_id = int(notification.key.rsplit(":", 1)[1])
    token = secrets.token_urlsafe(24)
    if not SubscriptionRequest.objects.filter(pk=request_id).update(token_hash=token_digest(token)):
        raise ChannelError(
            "the request to confirm is gone (confirmed or expired)",
            retryable=False,
            code="expired",
        )
    return public_url(reverse("portal:subscription-confirm", args=[token]))


def _follow_confirm_link(notification: Notification) -> str:
    # The key is "follow-confirm:<FollowRequest id>" (services.follow_confirmation_queue).
    from townhall.cases.services import follow_request_token_renew

    token = follow_request_token_renew(request_id=int(notification.key.rsplit(":", 1)[1]))
    if token is None:
        raise ChannelError(
            "the request to confirm is gone (confirmed or purged)",
            retryable=False,
            code="expired",
        )
    return public_url(reverse("portal:follow-confirm", args=[token]))


_MAKERS: dict[str, Callable[[Notification], str]] = {
    NotificationKind.SIGN_IN_LINK: _sign_in_link,
    NotificationKind.FOLLOW_CONFIRM: _follow_confirm_link,
    NotificationKind.SUBSCRIBE_CONFIRM: _subscription_confirm_link,
}


def secret_link_make(notification: Notification) -> str:
    """Return the notification's body with a fresh link in its `LINK_SLOT`; unchanged for
    kinds that carry no secret. Raise ChannelError if the link can no longer be made."""
    maker = _MAKERS.get(notification.kind)
    if maker is None or LINK_SLOT not in notification.body:
        return notification.body
    return notification.body.replace(LINK_SLOT, maker(notification))


def sign_in_link_queue(*, email: str, language: str = "", council: str = "") -> Notification:
    """Queue the e-mail with a sign-in link to `email`: through the outbox like every
    message, with its link made only when it is sent. Not subject to opt-outs (the
    resident asked for it this minute) and not tied to a resident (asking proves nothing
    about who owns the address). Each call queues a new message: the portal's rate limits
    bound how many."""
    from townhall.notify.queueing import templated_queue  # queueing imports sending

    return templated_queue(
        key=f"sign-in:{secrets.token_hex(12)}",
        kind=NotificationKind.SIGN_IN_LINK,
        channel=NotifyChannel.EMAIL,
        to=email,
        language=language,
        honour_opt_out=False,
        values={
            "sign_in_url": LINK_SLOT,
            "minutes": str(settings.TOWNHALL_SIGN_IN_LINK_MINUTES),
            "council": council or "Townhall",
        },
    )
