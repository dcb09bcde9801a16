"""Reads of the assistant: a conversation by its key, a resident's conversations, and the
rates the insights work reads (containment, hand-off, fallback, abandonment, thumbs)."""

from __future__ import annotations

import hmac
import re
from datetime import datetime
from typing import Any

from django.db.models import Count, Q

from townhall.assistant.errors import ConversationNotFound
from townhall.assistant.models import Conversation, Turn

# What `secrets.token_urlsafe(16)` gives: 22 URL-safe characters.
_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def conversation_get(*, key: str) -> Conversation:
    """Return the conversation `key` names; raise ConversationNotFound otherwise.

    The key is the only proof of access, so a malformed one is refused before any query
    and the stored key is compared in constant time.
    """
    if not isinstance(key, str) or not _KEY.match(key):
        raise ConversationNotFound("No such conversation.")
    conv = Conversation.objects.filter(key=key).first()
    if conv is None or not hmac.compare_digest(conv.key.encode(), key.encode()):
        raise ConversationNotFound("No such conversation.")
    return conv


def conversation_transcript(*, conversation: Conversation) -> list[dict[str, Any]]:
    """Return the turns of a conversation as plain rows, oldest first."""
    return [
        {
            "role": t.role,
            "text": t.text,
            "skill": t.skill,
            "at": t.created_at,
            "rating": t.rating,
        }
        for t in conversation.turns.order_by("created_at", "id")
    ]


# Slots an agent is shown (a resident's circumstances for an eligibility check are not).
_SHOWN_SLOTS = ("service", "answers", "place", "description", "reference", "programme", "tree")


def conversation_understood(*, conversation: Conversation) -> dict[str, Any]:
    """Return what the assistant understood so far, for the person taking over: the skill
    under way and its slots, the skills of the resident's turns, the frustration score."""
    state = conversation.state or {}
    frames = [f for f in [*(state.get("stack") or []), state.get("frame")] if f]
    skills = list(
        conversation.turns.filter(role=Turn.Role.RESIDENT)
        .exclude(skill="")
        .order_by("created_at", "id")
        .values_list("skill", flat=True)
    )
    return {
        "tasks": [
            {
                "skill": f.get("skill", ""),
                "slots": {k: v for k, v in (f.get("slots") or {}).items() if k in _SHOWN_SLOTS},
            }
            for f in frames
        ],
        "skills": skills,
        "frustration": conversation.frustration,
        "handoff_reason": conversation.handoff_reason,
    }


def conversations_for_export(
    *, citizen_id: int, sender_hashes: list[str] | None = None
) -> list[dict[str, Any]]:
    """Return a resident's conversations with their transcripts, for their data export."""
    who = Q(citizen_id=citizen_id)
    if sender_hashes:
        who |= Q(sender_hash__in=sender_hashes)
    rows = []
    for conv in Conversation.objects.filter(who).order_by("created_at", "id"):
        rows.append(
            {
                "channel": conv.channel,
                "language": conv.language,
                "started": conv.created_at,
                "outcome": conv.outcome,
                "case": conv.case.reference if conv.case_id and conv.case else None,
                "turns": conversation_transcript(conversation=conv),
            }
        )
    return rows


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def assistant_metrics(*, since: datetime, until: datetime) -> dict[str, Any]:
    """Return the assistant's rates for conversations started in [since, until).

    containment: answered by the assistant alone; hand-off: passed to a person (or left as
    a message out of hours); fallback: resident turns the assistant could not place;
    abandonment: closed idle with no outcome. Thumbs count ratings on answers given then.
    """
    conversations = Conversation.objects.filter(created_at__gte=since, created_at__lt=until)
    counts = conversations.aggregate(
        total=Count("id"),
        contained=Count("id", filter=Q(outcome=Conversation.Outcome.CONTAINED)),
        filed=Count("id", filter=Q(outcome=Conversation.Outcome.FILED)),
        handed_off=Count(
            "id",
            filter=Q(
                outcome__in=[Conversation.Outcome.HANDED_OFF, Conversation.Outcome.MESSAGE_LEFT]
            ),
        ),
        abandoned=Count("id", filter=Q(outcome=Conversation.Outcome.ABANDONED)),
    )
    turns = Turn.objects.filter(conversation__in=conversations)
    resident = turns.filter(role=Turn.Role.RESIDENT)
    turn_counts = resident.aggregate(
        total=Count("id"), fallbacks=Count("id", filter=Q(data__fallback=True))
    )
    thumbs = turns.filter(rating__isnull=False).aggregate(
        up=Count("id", filter=Q(rating__gt=0)), down=Count("id", filter=Q(rating__lt=0))
    )
    total = counts["total"]
    return {
        "conversations": total,
        "contained": counts["contained"],
        "filed": counts["filed"],
        "handed_off": counts["handed_off"],
        "abandoned": counts["abandoned"],
        # A filed report is contained too: no person was needed to take it.
        "containment_rate": _rate(counts["contained"] + counts["filed"], total),
        "handoff_rate": _rate(counts["handed_off"], total),
        "abandonment_rate": _rate(counts["abandoned"], total),
        "resident_turns": turn_counts["total"],
        "fallback_rate": _rate(turn_counts["fallbacks"], turn_counts["total"]),
        "thumbs_up": thumbs["up"],
        "thumbs_down": thumbs["down"],
    }
