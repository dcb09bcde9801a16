"""Writes of the assistant: conversations and their turns (the dialogue engine's entry point).

Every transport (the WebSocket consumer, `POST /api/assistant/messages`, inbound SMS) calls
`message_receive` and shows the `Reply` it returns. Every resident and bot turn is stored,
with what was understood; message text and contacts are never logged.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from townhall.assistant import frustration_signals, services_live, services_survey
from townhall.assistant.dialogue import Engine, TurnResult, frustrated_handoff
from townhall.assistant.dialogue_base import message, skill_title
from townhall.assistant.errors import ConversationNotFound
from townhall.assistant.models import Conversation, Turn
from townhall.assistant.replies import BotMessage, Reply
from townhall.assistant.selectors import conversation_get
from townhall.core import clock
from townhall.experience import tone
from townhall.intake.normalise import text_clean
from townhall.knowledge.services import article_feedback_record

log = logging.getLogger(__name__)

# A resident's message is cut here (the widget says so); a longer text is no question.
TEXT_MAX = 2000
# The previous resident texts the tone check compares with (rephrasing, repetition).
TONE_HISTORY = 3
# Stronger outcomes replace weaker ones; a conversation is never "less" than it was.
OUTCOME_RANK = {"": 0, "contained": 1, "filed": 2, "message_left": 3, "handed_off": 3}
SILENT = frozenset({Conversation.Status.QUEUED, Conversation.Status.AGENT})


def language_of(value: str) -> str:
    """One of the site's languages ("es-MX" is "es"); English for anything else."""
    base = (value or "").split("-")[0].lower()
    offered = {code.split("-")[0].lower() for code, _name in settings.LANGUAGES}
    return base if base in offered else "en"


def conversation_start(
    *,
    language: str = "en",
    channel: str = Conversation.Channel.WEB,
    citizen_id: int | None = None,
    sender_hash: str = "",
) -> Conversation:
    """Open a conversation, addressed by a fresh 128-bit random key (the widget keeps it)."""
    return Conversation.objects.create(
        key=secrets.token_urlsafe(16),
        language=language_of(language),
        channel=channel,
        citizen_id=citizen_id,
        sender_hash=sender_hash,
    )


def _outcome_set(conversation: Conversation, outcome: str) -> None:
    if OUTCOME_RANK.get(outcome, 0) > OUTCOME_RANK.get(conversation.outcome, 0):
        conversation.outcome = outcome


def _bot_turns(
    conversation: Conversation, messages: Sequence[BotMessage], result: TurnResult | None
) -> tuple[BotMessage, ...]:
    """Store each bot message as a turn; return them carrying their turn ids."""
    shown = []
    for bot in messages:
        turn = Turn.objects.create(
            conversation=conversation,
            role=Turn.Role.BOT,
            text=bot.text,
            skill=result.skill if result else "",
            data={
                "quick_replies": [{"label": q.label, "text": q.text} for q in bot.quick_replies],
                "sources": [{"title": s.title, "url": s.url} for s in bot.sources],
                **({"extra": bot.extra} if bot.extra else {}),
            },
        )
        shown.append(
            BotMessage(
                text=bot.text,
                quick_replies=bot.quick_replies,
                sources=bot.sources,
                turn=turn.pk,
                role=bot.role,
                extra=bot.extra,
            )
        )
    return tuple(shown)


def message_receive(
    *,
    conversation: str | None,
    text: str,
    language: str = "en",
    citizen_id: int | None = None,
    channel: str = "web",
    photos: Sequence[str] = (),
    sender_hash: str = "",
) -> Reply:
    """Take one resident message (starting a conversation when `conversation` is None).

    `photos` are tokens of photos staged by the upload endpoint (checked, EXIF removed).
    While a person owns the conversation (queued or with an agent) the assistant is
    silent: the message is stored and relayed, and the reply has no messages. Raise
    ConversationNotFound for a key that names no conversation.
    """
    text = text_clean(text or "").strip()
    cut = len(text) > TEXT_MAX
    text = text[:TEXT_MAX]
    photos = tuple(str(p) for p in photos)[:10]
    if conversation is None:
        conv = conversation_start(
            language=language, channel=channel, citizen_id=citizen_id, sender_hash=sender_hash
        )
    else:
        conv = conversation_get(key=conversation)
    with transaction.atomic():
        conv = Conversation.objects.select_for_update().get(pk=conv.pk)
        if citizen_id is not None and conv.citizen_id is None:
            conv.citizen_id = citizen_id
        if conversation is not None and language:
            conv.language = language_of(language)
        previous = list(
            conv.turns.filter(role=Turn.Role.RESIDENT)
            .order_by("-created_at", "-id")
            .values_list("text", flat=True)[:TONE_HISTORY]
        )
        resident = Turn.objects.create(
            conversation=conv,
            role=Turn.Role.RESIDENT,
            text=text,
            data={"photos": len(photos), **({"cut": True} if cut else {})},
        )
        if conv.status in SILENT:
            conv.save()
            services_live.resident_message_relay(conversation=conv, turn=resident)
            return Reply(conversation=conv.key, messages=(), status=conv.status)
        if conv.status == Conversation.Status.CLOSED:
            conv.status = Conversation.Status.BOT
            conv.closed_at = None
        # The satisfaction survey of the case filed here: a pressed 1-5 answers it
        # (services_survey); otherwise the engine answers, then the question is asked once.
        thanks = services_survey.survey_reply(conv, resident, text=text)
        if thanks is not None:
            conv.save()
            return Reply(conversation=conv.key, messages=(thanks,), status=conv.status)
        reply = _answer(
            conv,
            resident,
            text=text,
            cut=cut,
            photos=photos,
            previous=previous,
            citizen_id=citizen_id,
        )
        offer = services_survey.survey_offer(conv)
        if offer is not None:
            reply = Reply(
                conversation=conv.key, messages=(*reply.messages, offer), status=conv.status
            )
        conv.save()
    return reply


def _answer(
    conv: Conversation,
    resident: Turn,
    *,
    text: str,
    cut: bool,
    photos: Sequence[str],
    previous: list[str],
    citizen_id: int | None,
) -> Reply:
    state = dict(conv.state or {})
    try:
        score = float(
            tone.frustration_score(
                text, previous=previous[::-1], fallbacks=int(state.get("fallbacks") or 0)
            )
        )
    except Exception:  # no score is better than no answer; the words are not logged
        log.exception("assistant: the tone check failed (conversation %s)", conv.pk)
        score = 0.0
    resident.frustration = score
    conv.frustration = score
    result: TurnResult | None = None
    lead: list[BotMessage] = []
    with translation.override(conv.language):
        if cut:
            lead.append(
                message(
                    _(
                        "Your message was long, so I read only its first %(max)s characters. "
                        "Short messages work best."
                    )
                    % {"max": TEXT_MAX}
                )
            )
        threshold = float(settings.TOWNHALL_ASSISTANT_HANDOFF_THRESHOLD)
        if score > threshold and not state.get("frustration_handoff"):
            state["frustration_handoff"] = True
            conv.state = state
            messages = frustrated_handoff(conv, language=conv.language)
            _outcome_set(conv, "handed_off")
            conv.handoff_reason = conv.handoff_reason or "frustrated"
            resident.skill = "human_handoff"
            resident.data = {**resident.data, "frustrated": True}
        elif not text and not photos:
            messages = [message(_("Please type your message."))]
        else:
            # The caller's own sign-in, not the conversation's: a key alone shows nobody's
            # requests.
            engine = Engine(conv, text=text, photos=photos, citizen_id=citizen_id)
            try:
                with transaction.atomic():  # a failing skill leaves nothing half-written
                    result = engine.run()
            except Exception:
                # Never a 500 for the resident: say so, offer a person, keep the state as
                # it was before this turn. The words are not logged.
                log.exception("assistant: a turn failed (conversation %s)", conv.pk)
                result = TurnResult(
                    [
                        message(
                            _("Sorry, something went wrong on our side. Please try again."),
                            quick=[skill_title("human_handoff", conv.language)],
                        )
                    ],
                    "error",
                )
                engine.state = state
            messages = result.messages
            conv.state = {**state, **engine.state}
            _outcome_set(conv, result.outcome)
            if result.outcome == "handed_off":
                conv.handoff_reason = conv.handoff_reason or "asked"
            resident.skill = result.skill
            resident.confidence = result.confidence
            resident.data = {
                **resident.data,
                **result.data,
                **({"fallback": True} if result.fallback else {}),
            }
        shown = _bot_turns(conv, [*lead, *messages], result)
    resident.save(update_fields=["skill", "confidence", "data", "frustration"])
    frustration_signals.turn_signals_record(
        conv, tone_score=score, fallback=bool(result is not None and result.fallback)
    )
    return Reply(conversation=conv.key, messages=shown, status=conv.status)


def turn_rate(*, conversation: str, turn_id: int, helpful: bool) -> None:
    """Record a thumbs up/down on one of the assistant's answers; the latest counts.

    Raise ConversationNotFound if the turn is not one of this conversation's bot turns.
    """
    conv = conversation_get(key=conversation)
    with transaction.atomic():
        turn = (
            Turn.objects.select_for_update()
            .filter(pk=turn_id, conversation=conv, role__in=[Turn.Role.BOT, Turn.Role.AGENT])
            .first()
        )
        if turn is None:
            raise ConversationNotFound(_("No such answer in this conversation."))
        first = turn.rating is None
        turn.rating = 1 if helpful else -1
        turn.save(update_fields=["rating"])
        article = (turn.data.get("extra") or {}).get("article")
        if first and isinstance(article, int):
            # An answer from a help article: its thumbs count as the article's "was this
            # helpful?" (once per answer, the first choice).
            article_feedback_record(article_id=article, helpful=helpful)


def conversations_abandon_idle(*, idle: timedelta, now: datetime | None = None) -> int:
    """Close conversations nobody wrote to for `idle`; those left without an outcome
    count as abandoned. Their working state goes (answers typed for an eligibility check
    are not kept once nobody is using them). Return how many were closed."""
    now = now or clock.now()
    stale = Conversation.objects.filter(
        status=Conversation.Status.BOT, updated_at__lt=now - idle
    ).exclude(status=Conversation.Status.CLOSED)
    frustration_signals.abandoned_reports_record(
        list(
            stale.filter(outcome="", state__frame__skill=frustration_signals.REPORT_SKILL).only(
                "pk", "channel", "case", "citizen"
            )
        ),
        now=now,
    )
    frustration_signals.abandoned_chats_record(stale, now=now)
    abandoned = stale.filter(outcome="").update(
        outcome=Conversation.Outcome.ABANDONED,
        status=Conversation.Status.CLOSED,
        closed_at=now,
        state={},
    )
    rest = stale.update(status=Conversation.Status.CLOSED, closed_at=now, state={})
    return abandoned + rest


def conversations_expire(*, before: datetime) -> int:
    """Blank the words of conversations last active before `before` (the retention
    period of raw messages): turns keep role, skill, rating and date, so the rates stay
    true. Return how many conversations were blanked."""
    old = Conversation.objects.filter(updated_at__lt=before).exclude(
        status__in=[Conversation.Status.QUEUED, Conversation.Status.AGENT]
    )
    ids = list(old.filter(turns__text__gt="").distinct().values_list("pk", flat=True))
    with transaction.atomic():
        Turn.objects.filter(conversation_id__in=ids).update(text="", data={})
        Conversation.objects.filter(pk__in=ids).update(state={}, sender_hash="")
    return len(ids)
