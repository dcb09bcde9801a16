"""Writes of the live chat: hand-off to a person, the queue, an agent taking and answering.

The dialogue engine calls `conversation_handoff` (frustrated, asked, too many fallbacks)
and, while a person owns the conversation, `resident_message_relay` for each resident
turn instead of answering. The console calls the rest, as the signed-in member of staff;
each checks who may do what here, not in the view:

- only staff who work the live chat (`selectors_live.live_chat_may_work`) take, answer,
  release or close;
- a conversation is taken by one person at a time (row lock), and only that person can
  answer or close it (a supervisor may give it back to the queue);
- events pushed to the widget carry the agent's first name, never their account.

Out of office hours nobody would come, so the transcript becomes a message on a case
through the intake pipeline (like every channel) and the resident gets its reference.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from townhall.assistant import frustration_signals, live
from townhall.assistant.models import Conversation, SkillExample, Turn
from townhall.assistant.selectors_live import (
    live_chat_may_oversee,
    live_chat_may_work,
    live_chat_open,
)
from townhall.assistant.skills import skills_load
from townhall.core import clock
from townhall.core.errors import DomainError, ValidationFailed
from townhall.intake.messages import IncomingMessage, Sender
from townhall.intake.services import intake_submit
from townhall.notify.services import notification_reply
from townhall.people.models import Channel
from townhall.people.selectors import citizen_contact

logger = logging.getLogger(__name__)

REASONS = ("frustrated", "asked", "fallbacks")
REPLY_MAX = 2000
TRANSCRIPT_MAX = 9000


class LiveChatRefused(DomainError):
    """The member of staff may not do this to this conversation (or it moved on)."""

    code = "live_chat.refused"


def _system(conversation: Conversation, text: str, **data: Any) -> Turn:
    return Turn.objects.create(
        conversation=conversation, role=Turn.Role.SYSTEM, text=text, data=data
    )


def _text_resident(conversation: Conversation, turn: Turn) -> None:
    """A conversation by text message: what the widget would show goes out as an SMS,
    through the outbox in the same transaction (no widget listens to the push). Only to a
    known resident's number: the conversation itself keeps a hash of the sender, not it."""
    if conversation.channel != Conversation.Channel.SMS or conversation.citizen is None:
        return
    phone = citizen_contact(citizen=conversation.citizen, kind="phone")
    if phone:
        notification_reply(
            key=f"assistant-live:{turn.pk}",
            channel="sms",
            to=phone,
            body=turn.text,
            citizen=conversation.citizen,
            case_id=conversation.case_id,
            language=conversation.language,
        )


def _queue_event(conversation: Conversation, kind: str) -> None:
    """Tell the console's queue pages; the row id only (the key is the resident's secret)."""
    transaction.on_commit(
        lambda: live.queue_push(
            {"type": kind, "conversation": conversation.pk, "status": str(conversation.status)}
        )
    )


def _push(conversation: Conversation, event: dict[str, Any]) -> None:
    key = conversation.key
    transaction.on_commit(lambda: live.conversation_push(key, event))


def conversation_handoff(*, conversation: Conversation, reason: str) -> Turn | None:
    """Queue the conversation for a person (or leave a message on a case out of hours).

    Return the system turn that tells the resident what happens (the dialogue may show it
    in its reply); None when the conversation was already queued, with a person or closed,
    which is then left as it is.
    """
    if reason not in REASONS:
        raise ValidationFailed(f"Unknown hand-off reason {reason!r}.")
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if locked.status != Conversation.Status.BOT:
            return None
        now = clock.now()
        locked.handoff_reason = reason
        with translation.override(locked.language or None):
            if live_chat_open(at=now):
                locked.status = Conversation.Status.QUEUED
                locked.queued_at = now
                locked.save(update_fields=["status", "queued_at", "handoff_reason", "updated_at"])
                turn = _system(locked, _("A person will join this chat shortly."))
                _queue_event(locked, "queued")
            else:
                turn = _message_left(locked, now)
                frustration_signals.handoff_bounced_record(locked, reason="out_of_hours")
        # Not pushed: the resident's own turn asked for this and gets `turn` in its reply.
    conversation.refresh_from_db()
    return turn


def _transcript(conversation: Conversation) -> str:
    names: dict[str, str] = {
        Turn.Role.RESIDENT: _("Resident"),
        Turn.Role.BOT: _("Assistant"),
        Turn.Role.AGENT: _("Staff"),
        Turn.Role.SYSTEM: _("System"),
    }
    lines = [
        f"{names.get(t.role, t.role)}: {t.text}"
        for t in conversation.turns.order_by("created_at", "pk")
    ]
    text = "\n".join(lines)
    return text[-TRANSCRIPT_MAX:]


def _message_left(conversation: Conversation, now: Any) -> Turn:
    """Out of hours: the transcript as a case (intake, like every channel); the reference
    goes back to the resident."""
    email = phone = ""
    if conversation.citizen is not None:  # the case's updates reach them as usual
        email = citizen_contact(citizen=conversation.citizen, kind="email") or ""
        phone = citizen_contact(citizen=conversation.citizen, kind="phone") or ""
    with translation.override(settings.LANGUAGE_CODE):  # for staff: the site's language
        text = _("Chat with the assistant, left as a message out of hours:") + "\n\n"
        text += _transcript(conversation)
        subject = _("Message from the chat")
    service = settings.TOWNHALL_LIVE_CHAT_SERVICE or settings.TOWNHALL_INTAKE_FALLBACK_SERVICE
    message = IncomingMessage(
        # A phone call's message (services_voice) is a phone contact.
        channel=Channel.PHONE if conversation.channel == "phone" else Channel.ASSISTANT,
        sender=Sender(email=email, phone=phone, language=conversation.language),
        subject=subject,
        text=text,
        service_code=service,
        received_at=now,
    )
    try:
        result = intake_submit(message)
    except ValidationFailed as exc:
        # The chosen service is not offered here (or asks questions a chat did not answer):
        # triage places the message instead.
        logger.warning("live chat: service %r refused (%s); triage routes it", service, exc)
        try:
            result = intake_submit(
                IncomingMessage(
                    channel=message.channel,
                    sender=message.sender,
                    subject=message.subject,
                    text=text,
                    received_at=now,
                )
            )
        except ValidationFailed as again:
            # No service takes it (a council with no fallback service and no triage model):
            # the chat waits in the queue for the first person in, rather than being lost.
            logger.warning("live chat: no service took an out-of-hours chat (%s)", again)
            conversation.status = Conversation.Status.QUEUED
            conversation.queued_at = now
            conversation.save(update_fields=["status", "queued_at", "handoff_reason", "updated_at"])
            _queue_event(conversation, "queued")
            return _system(
                conversation,
                _("Our team is not here right now. A person will reply in this chat when we open."),
            )
    case = result.case
    conversation.status = Conversation.Status.CLOSED
    conversation.outcome = Conversation.Outcome.MESSAGE_LEFT
    conversation.closed_at = now
    conversation.case = case
    conversation.save(
        update_fields=["status", "outcome", "closed_at", "case", "handoff_reason", "updated_at"]
    )
    reference = case.reference if case is not None else ""
    return _system(
        conversation,
        _(
            "Our team is not here right now, so we have kept this chat as a message. "
            "Your reference is %(reference)s: we will reply as soon as we open."
        )
        % {"reference": reference},
        reference=reference,
    )


def resident_message_relay(*, conversation: Conversation, turn: Turn) -> None:
    """A resident's message while a person owns the chat (or is awaited): to the agent's
    page and the queue, the bot stays silent."""
    _push(
        conversation,
        {"type": "message", "role": "resident", "text": turn.text, "turn": turn.pk},
    )
    _queue_event(conversation, "message")


def _locked_for(user: Any, conversation_id: int) -> Conversation:
    if not live_chat_may_work(user):
        raise LiveChatRefused(_("You do not work the live chat."))
    found = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
    if found is None:
        raise LiveChatRefused(_("No such conversation."))
    return found


def _own(user: Any, conversation_id: int) -> Conversation:
    found = _locked_for(user, conversation_id)
    if found.status != Conversation.Status.AGENT or found.agent_id != user.pk:
        raise LiveChatRefused(_("This conversation is not yours to answer."))
    return found


def conversation_take(*, conversation_id: int, user: Any) -> Conversation:
    """`user` takes a queued conversation; the resident sees who joined."""
    with transaction.atomic():
        found = _locked_for(user, conversation_id)
        if found.status != Conversation.Status.QUEUED:
            raise LiveChatRefused(_("Someone else has taken this conversation."))
        found.status = Conversation.Status.AGENT
        found.agent = user
        found.taken_at = clock.now()
        found.save(update_fields=["status", "agent", "taken_at", "updated_at"])
        name = user.first_name or _("A member of staff")
        with translation.override(found.language or None):
            text = _("%(name)s has joined the chat.") % {"name": name}
        turn = _system(found, text)
        _text_resident(found, turn)
        _push(found, {"type": "agent_joined", "name": name, "text": text, "turn": turn.pk})
        _queue_event(found, "taken")
    return found


def agent_reply(*, conversation_id: int, user: Any, text: str) -> Turn:
    """`user` answers the resident in the widget, in real time."""
    text = text.strip()
    if not text:
        raise ValidationFailed(_("Write a reply."), details={"text": [_("Write a reply.")]})
    if len(text) > REPLY_MAX:
        raise ValidationFailed(
            _("Keep a reply under %(n)s characters.") % {"n": REPLY_MAX},
            details={"text": [_("Keep a reply under %(n)s characters.") % {"n": REPLY_MAX}]},
        )
    with transaction.atomic():
        found = _own(user, conversation_id)
        turn = Turn.objects.create(conversation=found, role=Turn.Role.AGENT, text=text, author=user)
        _text_resident(found, turn)
        _push(
            found,
            {
                "type": "message",
                "role": "agent",
                "text": text,
                "turn": turn.pk,
                "name": user.first_name or "",
            },
        )
        Conversation.objects.filter(pk=found.pk).update(updated_at=clock.now())
    return turn


def conversation_release(*, conversation_id: int, user: Any) -> Conversation:
    """Give the conversation back to the queue for a colleague (its agent, or a supervisor
    when the agent has gone)."""
    with transaction.atomic():
        found = _locked_for(user, conversation_id)
        if found.status != Conversation.Status.AGENT or not (
            found.agent_id == user.pk or live_chat_may_oversee(user)
        ):
            raise LiveChatRefused(_("This conversation is not yours to answer."))
        found.status = Conversation.Status.QUEUED
        found.agent = None
        found.taken_at = None
        found.save(update_fields=["status", "agent", "taken_at", "updated_at"])
        with translation.override(found.language or None):
            turn = _system(found, _("Another person will join this chat shortly."))
        _push(found, {"type": "message", "role": "system", "text": turn.text, "turn": turn.pk})
        _queue_event(found, "queued")
    return found


def conversation_close(*, conversation_id: int, user: Any) -> Conversation:
    """The agent ends the chat: closed, handed off."""
    with transaction.atomic():
        found = _own(user, conversation_id)
        found.status = Conversation.Status.CLOSED
        found.outcome = Conversation.Outcome.HANDED_OFF
        found.closed_at = clock.now()
        found.save(update_fields=["status", "outcome", "closed_at", "updated_at"])
        with translation.override(found.language or None):
            turn = _system(found, _("The chat has ended. Thank you."))
        _text_resident(found, turn)
        _push(found, {"type": "closed", "text": turn.text, "turn": turn.pk})
        _queue_event(found, "closed")
    return found


def skill_example_add(*, user: Any, skill: str, text: str, language: str = "en") -> SkillExample:
    """Teach the assistant: `text` becomes an example of `skill` (the understanding module
    picks active rows up)."""
    if not live_chat_may_work(user):
        raise LiveChatRefused(_("You do not work the live chat."))
    text = " ".join(text.split())[:500]
    if skill not in skills_load():
        raise ValidationFailed(_("Choose a skill."), details={"skill": [_("Choose a skill.")]})
    if not text:
        raise ValidationFailed(
            _("Write the question."), details={"text": [_("Write the question.")]}
        )
    if language not in dict(settings.LANGUAGES):
        language = "en"
    example, _created = SkillExample.objects.update_or_create(
        skill=skill,
        language=language,
        text=text,
        defaults={"active": True, "added_by": user},
    )
    return example
