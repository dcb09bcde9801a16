"""Inbound texts the assistant answers: a question by SMS gets the same engine as the web
chat, in plain text, with the buttons written out and the links in full.

The hooks face sends a text here only when it is not about a case (no reference, no case
waiting for the sender: `intake.channels.sms_continues_case`). The assistant then takes a
text only if it continues an SMS conversation, or the understanding module places it in a
skill that answers (bin days, help, status, permits, eligibility, a person); a report or an
unclear text goes on to intake as before, which opens a case from it in one text.

The conversation is keyed by a keyed hash of the number (`sender_hash`), never the number.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from townhall.assistant import nlu
from townhall.assistant.models import Conversation
from townhall.assistant.replies import Reply
from townhall.assistant.services import message_receive
from townhall.core import clock
from townhall.core.ratelimit import RateLimited, rate_limit_hit
from townhall.people.selectors import citizen_by_contact, citizen_verified_contacts

# What the assistant answers by text when a conversation starts.
SMS_SKILLS = frozenset(
    {"faq", "waste_schedule", "case_status", "permit_finder", "eligibility", "human_handoff"}
)
SMS_MAX = 1500


def sender_hash_of(number: str) -> str:
    """The keyed hash an SMS conversation is found by (the number is not stored)."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"assistant-sms:{number}".encode(), hashlib.sha256).hexdigest()


def _ongoing(sender_hash: str) -> Conversation | None:
    since = clock.now() - timedelta(hours=settings.TOWNHALL_ASSISTANT_SMS_IDLE_HOURS)
    return (
        Conversation.objects.filter(
            channel=Conversation.Channel.SMS, sender_hash=sender_hash, updated_at__gte=since
        )
        .exclude(status=Conversation.Status.CLOSED)
        .order_by("-updated_at", "-id")
        .first()
    )


def _in_progress(conversation: Conversation) -> bool:
    if conversation.status != Conversation.Status.BOT:
        return True  # a person owns it: they read every text
    state = conversation.state or {}
    return bool(state.get("frame") or state.get("clarify") or state.get("fallbacks"))


def sms_text(reply: Reply) -> str:
    """The reply as one text: buttons become "Reply: A / B", links are written out."""
    parts = []
    for bot in reply.messages:
        parts.append(bot.text)
        if bot.quick_replies:
            labels = " / ".join(q.label for q in bot.quick_replies)
            parts.append(_("Reply: %(choices)s") % {"choices": labels})
        parts.extend(f"{s.title}: {s.url}" if s.title else s.url for s in bot.sources)
    text = "\n".join(parts)
    return text if len(text) <= SMS_MAX else text[: SMS_MAX - 1] + "…"


def sms_message_receive(*, from_number: str, text: str) -> str | None:
    """Answer a text, or None when it is not for the assistant (intake takes it).

    "" means taken with nothing to say now (a person owns the conversation).
    """
    sender_hash = sender_hash_of(from_number)
    try:
        # Every answer is a text we pay for: past the limit, a number's questions get no
        # answer (a report or a reply about a case never comes here).
        rate_limit_hit(None, "assistant_sms", targets=[sender_hash])
    except RateLimited:
        return ""
    conversation = _ongoing(sender_hash)
    citizen = citizen_by_contact(kind="phone", value=from_number)
    language = (citizen.preferred_language if citizen else "") or settings.LANGUAGE_CODE
    if citizen is not None and from_number not in {
        c.value for c in citizen_verified_contacts(citizen)
    }:
        # Only a proven number links the texts to a resident (their requests, their data).
        citizen = None
    if conversation is not None:
        language = conversation.language
    if conversation is None or not _in_progress(conversation):
        understood = nlu.understand(text, language=language.split("-")[0])
        if understood.ambiguous or understood.skill not in SMS_SKILLS:
            return None
    reply = message_receive(
        conversation=conversation.key if conversation else None,
        text=text,
        language=language,
        citizen_id=citizen.pk if citizen else None,
        channel=Conversation.Channel.SMS,
        sender_hash=sender_hash,
    )
    with translation.override(language):
        return sms_text(reply)
