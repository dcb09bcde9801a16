"""Reads of the chat transport: does a conversation exist, what happened in it since a turn.

The widget addresses a conversation by its key (a secret it holds); row ids never leave the
server except turn ids, which only order a conversation's own turns.
"""

from __future__ import annotations

from typing import Any

from townhall.assistant.models import Conversation, Turn
from townhall.people.models import Citizen

# Turns the events endpoint and a re-joining socket replay: what a person or the system
# said while the widget was not listening (the bot's answers come back with each message).
LIVE_ROLES = (Turn.Role.AGENT, Turn.Role.SYSTEM)
HISTORY_LIMIT = 200


def conversation_status(*, key: str) -> str | None:
    """The conversation's status (bot / queued / agent / closed), or None for no such key."""
    if not key or len(key) > 64:
        return None
    return Conversation.objects.filter(key=key).values_list("status", flat=True).first()


def _message(turn: Turn) -> dict[str, Any]:
    data = turn.data if isinstance(turn.data, dict) else {}

    def listed(name: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
        items = data.get(name)
        if not isinstance(items, list):
            return []
        return [
            {f: str(item.get(f, "")) for f in fields}
            for item in items
            if isinstance(item, dict) and all(isinstance(item.get(f), str) for f in fields)
        ]

    return {
        "text": turn.text,
        "role": turn.role,
        "turn": turn.pk,
        "quick_replies": listed("quick_replies", ("label", "text")),
        "sources": listed("sources", ("title", "url")),
        "extra": {},
    }


def conversation_events(
    *, key: str, after: int = 0, history: bool = False
) -> tuple[str, list[dict[str, Any]]] | None:
    """(status, messages) of conversation `key`: the agent's and system's turns after turn
    id `after` or, with `history`, every turn (to redraw the chat on another page), oldest
    first, in the shape of a BotMessage. None when there is no such conversation."""
    status = conversation_status(key=key)
    if status is None:
        return None
    turns = Turn.objects.filter(conversation__key=key, pk__gt=max(0, after))
    if not history:
        turns = turns.filter(role__in=LIVE_ROLES)
    latest = list(turns.order_by("-pk")[:HISTORY_LIMIT])
    return status, [_message(turn) for turn in reversed(latest)]


def citizen_id_for_user(*, user_id: int | None) -> int | None:
    """The resident signed in as `user_id` (a sign-in link's account), or None."""
    if user_id is None:
        return None
    return Citizen.objects.filter(user_id=user_id).values_list("pk", flat=True).first()
