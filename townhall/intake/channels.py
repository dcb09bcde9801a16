"""Channel adapters: what e-mail, SMS and partner webhooks deliver, as one Message.

Each adapter only translates; the pipeline (services.py) decides. Answers the pipeline
has for the sender (already reported, added to your request, too short) go back on the
same channel through the notify outbox, except SMS, whose answer rides on the reply to
the provider's webhook.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from townhall.core import clock
from townhall.core.errors import ValidationFailed
from townhall.intake.email_in import (
    EmailTooLarge,
    email_parse,
    reference_find,
    reply_address_parse,
)
from townhall.intake.messages import Attachment, IncomingMessage, Location, Sender
from townhall.intake.models import Outcome, WebhookSource
from townhall.intake.services import IntakeResult, intake_accept
from townhall.intake.services_thread import _thread_case
from townhall.notify.channels.webhook import webhook_verify
from townhall.notify.models import NotifyChannel
from townhall.notify.services import notification_reply
from townhall.people.models import Channel, ContactKind
from townhall.people.selectors import citizen_by_contact

TEXT_MAX = 10_000


# --- e-mail --------------------------------------------------------------------------


def email_message(raw: bytes, *, source: str = "webhook") -> IncomingMessage:
    """The Message for a raw RFC 5322 e-mail. Raise EmailTooLarge above the size limit."""
    own = [d for d in (settings.TOWNHALL_INBOUND_EMAIL_DOMAIN,) if d]
    parsed = email_parse(raw, max_bytes=settings.TOWNHALL_INBOUND_EMAIL_MAX_BYTES, own_domains=own)
    prefix = settings.TOWNHALL_REFERENCE_PREFIX
    hint = ""
    # The current secret first, then those of before a rotation (addresses already sent).
    secrets = [
        settings.TOWNHALL_REPLY_ADDRESS_SECRET,
        *settings.TOWNHALL_REPLY_ADDRESS_SECRET_FALLBACKS,
    ]
    for address in parsed.to:
        hint = next((h for s in secrets if (h := reply_address_parse(address, secret=s))), "")
        if hint:
            break
    signed = bool(hint)
    if not hint:
        hint = reference_find(parsed.subject, prefix=prefix) or ""
    return IncomingMessage(
        channel=Channel.EMAIL,
        sender=Sender(
            email=parsed.from_address, name=parsed.from_name, language=parsed.language_hint
        ),
        subject=_subject_clean(parsed.subject),
        # A reply to a case adds what is new; a first message keeps everything.
        text=(parsed.new_text if hint else parsed.text)[:TEXT_MAX],
        attachments=tuple(
            Attachment(
                filename=a.filename, content_type=a.content_type, data=a.data, inline=a.inline
            )
            for a in parsed.attachments
        ),
        thread_hint=hint,
        thread_signed=signed,
        external_id=parsed.message_id,
        source=source,
        raw=raw.decode("utf-8", errors="replace"),
        automatic=parsed.automatic,
        received_at=None,
    )


def _subject_clean(subject: str) -> str:
    lowered = subject
    for prefix in ("re:", "fwd:", "fw:", "aw:", "rv:", "tr:"):
        while lowered.lower().startswith(prefix):
            lowered = lowered[len(prefix) :].strip()
    return lowered


def intake_email_receive(raw: bytes, *, source: str = "webhook") -> IntakeResult:
    """Take one raw e-mail through the pipeline; answer the sender where there is news
    that no case notification will bring (already reported, added, too short).

    Raise ValidationFailed if the message is over the size limit.
    """
    try:
        message = email_message(raw, source=source)
    except EmailTooLarge as exc:
        raise ValidationFailed(
            "The message is too large.", details={"email": [str(exc) or "Too large."]}
        ) from exc
    result = intake_accept(message)
    inbound = result.message
    if result.reply and inbound.outcome != Outcome.IGNORED and message.sender.email:
        notification_reply(
            key=f"intake-reply:{inbound.pk}",
            channel=NotifyChannel.EMAIL,
            to=message.sender.email,
            subject="Re: " + (message.subject or (result.case.reference if result.case else "")),
            body=result.reply,
            citizen=inbound.citizen,
            case_id=result.case.pk if result.case else None,
        )
    return result


# --- SMS -----------------------------------------------------------------------------


def intake_sms_receive(
    *, from_number: str, body: str, message_id: str = "", raw: Mapping[str, str] | None = None
) -> IntakeResult:
    """Take one inbound text through the pipeline; `result.reply` is the answer to send.

    A reference anywhere in the text ("TH-26-000123", "status TH-26-000123") names the
    case; other texts continue the sender's conversation or open a case.
    """
    prefix = settings.TOWNHALL_REFERENCE_PREFIX
    message = IncomingMessage(
        channel=Channel.SMS,
        sender=Sender(phone=from_number),
        text=body.strip()[:TEXT_MAX],
        thread_hint=reference_find(body, prefix=prefix) or "",
        external_id=message_id,
        source="sms",
        raw=_raw_text(raw or {}),
    )
    result = intake_accept(message)
    if result.outcome == Outcome.OPENED and result.case is not None and not result.reply:
        # A direct answer to their text, whatever the hour, in their language: they know
        # it arrived and what to quote. The acknowledgement with the expected date
        # follows through the outbox.
        citizen = result.message.citizen
        with translation.override((citizen.preferred_language if citizen else "") or None):
            result.reply = _(
                "Thank you. Your reference is %(reference)s; we will text you updates."
            ) % {"reference": result.case.reference}
    return result


def sms_continues_case(*, from_number: str, body: str) -> bool:
    """Whether an inbound text is about a case: it carries a reference, or the sender has
    a case waiting for them or texted about one just now (what `intake_sms_receive`
    threads onto). Other texts may go to the assistant (the hooks face decides)."""
    if reference_find(body, prefix=settings.TOWNHALL_REFERENCE_PREFIX):
        return True
    citizen = citizen_by_contact(kind=ContactKind.PHONE, value=from_number)
    message = IncomingMessage(channel=Channel.SMS, sender=Sender(phone=from_number), text=body)
    return _thread_case(message, citizen, clock.now()) is not None


def _raw_text(fields: Mapping[str, str]) -> str:
    return "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))


# --- partner and social-media webhooks ----------------------------------------------


def webhook_signature_ok(
    secret: str, body: bytes, *, signature: str, timestamp: str, now: int | None = None
) -> bool:
    """Whether a partner signed `body` as Townhall signs its own webhooks (docs/webhooks.md):
    `X-Townhall-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>` with an
    `X-Townhall-Timestamp` within five minutes, so a captured request cannot be replayed."""
    if not secret:
        return False
    return webhook_verify(
        secret=secret,
        signature_header=signature,
        timestamp_header=timestamp,
        body=body,
        now=int(time.time()) if now is None else now,
    )


def _float_or_none(value: Any, name: str, errors: dict[str, list[str]]) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        errors[name] = ["Give a decimal number."]
        return None
    if not math.isfinite(number):
        errors[name] = ["Give a decimal number."]
        return None
    return number


def webhook_message(source: WebhookSource, payload: Any, *, raw: str) -> IncomingMessage:
    """The Message for a partner's JSON payload; raise ValidationFailed listing every
    problem (the partner gets them back as a JSON error list).

    Fields: id (their message id, for retries), text, subject, sender {name, email, phone,
    handle}, location {lat, long, address}, thread (a case reference), service_code.
    """
    errors: dict[str, list[str]] = {}
    if not isinstance(payload, dict):
        raise ValidationFailed("Send a JSON object.", details={"body": ["Send a JSON object."]})
    sender = payload.get("sender") or {}
    location = payload.get("location") or {}
    if not isinstance(sender, dict):
        errors["sender"] = ["Give an object with name, email, phone or handle."]
        sender = {}
    if not isinstance(location, dict):
        errors["location"] = ["Give an object with lat, long or address."]
        location = {}
    strings = {
        "text": payload.get("text", ""),
        "subject": payload.get("subject", ""),
        "id": payload.get("id", ""),
        "thread": payload.get("thread", ""),
        "service_code": payload.get("service_code", ""),
        "sender.name": sender.get("name", ""),
        "sender.email": sender.get("email", ""),
        "sender.phone": sender.get("phone", ""),
        "sender.handle": sender.get("handle", ""),
        "location.address": location.get("address", ""),
    }
    for name, value in strings.items():
        if not isinstance(value, str | int):
            errors[name] = ["Give a string."]
    clean = {k: str(v).strip() if isinstance(v, str | int) else "" for k, v in strings.items()}
    lat = _float_or_none(location.get("lat"), "location.lat", errors)
    long = _float_or_none(location.get("long"), "location.long", errors)
    if (lat is None) != (long is None):
        errors["location"] = ["Give both lat and long, or neither."]
    if not clean["text"] and not clean["subject"] and lat is None and not clean["location.address"]:
        errors["text"] = ["Say what the message is about."]
    if len(clean["text"]) > TEXT_MAX:
        errors["text"] = [f"Keep it under {TEXT_MAX} characters."]
    if errors:
        raise ValidationFailed("The message could not be accepted.", details=errors)
    handle = clean["sender.handle"]
    if handle and ":" not in handle:
        handle = f"{source.slug}:{handle}"  # handles are only unique per network
    return IncomingMessage(
        channel=source.channel,
        sender=Sender(
            email=clean["sender.email"],
            phone=clean["sender.phone"],
            handle=handle,
            name=clean["sender.name"],
        ),
        text=clean["text"],
        subject=clean["subject"],
        place=Location(lat=lat, long=long, address=clean["location.address"]),
        thread_hint=clean["thread"],
        external_id=f"{source.slug}:{clean['id']}" if clean["id"] else "",
        service_code=clean["service_code"],
        jurisdiction_id=source.jurisdiction_id,
        source=source.slug,
        raw=raw,
    )


def intake_webhook_receive(source: WebhookSource, payload: Any, *, raw: str) -> IntakeResult:
    """Take a partner's message through the pipeline. Raise ValidationFailed for a bad one."""
    return intake_accept(webhook_message(source, payload, raw=raw))
