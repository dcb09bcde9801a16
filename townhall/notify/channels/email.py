"""E-mail through Django's mail framework.

The message goes through whatever ``EMAIL_BACKEND`` the site configures: SMTP, the console
backend in development, locmem in tests, or a provider API through django-anymail
(``EMAIL_BACKEND = "anymail.backends.<provider>.EmailBackend"``); nothing else is needed here.
"""

from __future__ import annotations

import hashlib
import smtplib
from collections.abc import Callable
from email.utils import make_msgid, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend

from townhall.notify.channels.base import ChannelError, OutgoingMessage, SendResult

__all__ = ["EmailChannel"]

DEFAULT_MSGID_DOMAIN = "townhall.local"


def _domain_of(address: str) -> str:
    _, email_address = parseaddr(address)
    local, at, domain = email_address.rpartition("@")
    return domain.strip() if local and at and domain.strip() else DEFAULT_MSGID_DOMAIN


class EmailChannel:
    """Sends a text e-mail, with an HTML alternative when the message has one.

    Headers: a ``Message-ID`` derived from the message key (its hash is the id string; the
    domain is the sender's), ``Auto-Submitted: auto-generated`` (RFC 3834, so auto-replies
    stay quiet) and, when the message has an unsubscribe URL, the RFC 8058 one-click pair
    ``List-Unsubscribe`` / ``List-Unsubscribe-Post``.

    ``connection_factory`` is called as ``connection_factory(fail_silently=False)`` and must
    return a Django e-mail backend (default: :func:`django.core.mail.get_connection`, i.e.
    ``settings.EMAIL_BACKEND``; django-anymail backends plug in there).
    """

    def __init__(
        self,
        name: str = "email",
        from_email: str | None = None,
        connection_factory: Callable[..., BaseEmailBackend] = get_connection,
    ) -> None:
        self.name = name
        self.from_email = from_email
        self.connection_factory = connection_factory

    def __repr__(self) -> str:
        return f"EmailChannel(name={self.name!r}, from_email={self.from_email!r})"

    def build(self, message: OutgoingMessage) -> EmailMultiAlternatives:
        """The Django e-mail for ``message`` (exposed for previews and tests)."""
        sender: str = self.from_email or settings.DEFAULT_FROM_EMAIL
        key_hash = hashlib.sha256(message.key.encode("utf-8")).hexdigest()[:32]
        headers: dict[str, Any] = {
            "Message-ID": make_msgid(idstring=key_hash, domain=_domain_of(sender)),
            "Auto-Submitted": "auto-generated",
            # Our own mail coming back (a forward rule, a loop) is recognised by intake.
            "X-Townhall-Loop": _domain_of(sender),
        }
        if message.reply_to:
            headers["Reply-To"] = message.reply_to
        if message.unsubscribe_url:
            headers["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body,
            from_email=sender,
            to=[message.to],
            headers=headers,
        )
        if message.html_body:
            email.attach_alternative(message.html_body, "text/html")
        for filename, content, mimetype in message.attachments:
            email.attach(filename, content, mimetype)
        return email

    def send(self, message: OutgoingMessage) -> SendResult:
        if "@" not in message.to or any(c in message.to for c in "\r\n,"):
            raise ChannelError(
                f"not a single e-mail address: {message.to!r}",
                retryable=False,
                code="invalid_address",
            )
        try:
            email = self.build(message)
            message_id = str(email.extra_headers["Message-ID"])
            connection = self.connection_factory(fail_silently=False)
            sent = connection.send_messages([email])
        except smtplib.SMTPRecipientsRefused as exc:
            raise ChannelError(
                f"recipient refused: {exc.recipients!r}", retryable=False, code="recipient_refused"
            ) from exc
        except smtplib.SMTPException as exc:
            raise ChannelError(f"SMTP error: {exc!r}", retryable=True, code="smtp") from exc
        except OSError as exc:
            raise ChannelError(
                f"mail server unreachable: {exc!r}", retryable=True, code="network"
            ) from exc
        except BadHeaderError as exc:
            raise ChannelError(str(exc), retryable=False, code="bad_header") from exc
        if not sent:
            # Backends answer 0 when they dropped the message without raising.
            raise ChannelError("the e-mail backend sent nothing", retryable=True, code="not_sent")
        # With a django-anymail backend, the provider's own id is what its delivery
        # reports (tracking webhooks) will quote.
        status = getattr(email, "anymail_status", None)
        provider_id = getattr(status, "message_id", None) if status is not None else None
        return SendResult(provider_message_id=str(provider_id or message_id), status="sent")
