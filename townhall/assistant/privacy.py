"""The assistant's share of a resident's data: their conversations (web chats while signed
in, and texts from their phone numbers, found by the numbers' keyed hash).

Erasure blanks every turn's words and what was read from them, and drops the dialogue's
state and the sender hash; it keeps each conversation's channel, outcome, skills, ratings
and dates, so the assistant's rates stay true. Named in settings.TOWNHALL_PRIVACY_PARTS.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from townhall.assistant.models import Conversation, Turn
from townhall.assistant.selectors import conversations_for_export
from townhall.assistant.services_sms import sender_hash_of


def _hashes(phones: list[str]) -> list[str]:
    return [sender_hash_of(p) for p in phones]


def _theirs(citizen_id: int, phones: list[str]) -> Q:
    who = Q(citizen_id=citizen_id)
    hashes = _hashes(phones)
    if hashes:
        who |= Q(sender_hash__in=hashes)
    return who


def privacy_export(*, citizen_id: int, phones: list[str]) -> dict[str, Any]:
    """Return the resident's conversations with their transcripts, for their export."""
    rows = conversations_for_export(citizen_id=citizen_id, sender_hashes=_hashes(phones))
    return {"conversations.json": rows}


def privacy_count(*, citizen_id: int, phones: list[str]) -> dict[str, int]:
    """Return how many conversations erasure would blank."""
    return {
        "conversations_redacted": Conversation.objects.filter(_theirs(citizen_id, phones)).count()
    }


def privacy_erase(*, citizen_id: int, phones: list[str]) -> None:
    """Blank the resident's conversations (inside the erasure's transaction)."""
    conversations = Conversation.objects.filter(_theirs(citizen_id, phones))
    Turn.objects.filter(conversation__in=conversations).update(text="", data={})
    conversations.update(citizen=None, sender_hash="", state={})
