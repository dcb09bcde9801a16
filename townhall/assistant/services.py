"""Writes of the assistant: conversations and their turns (the dialogue engine's entry point).

Every transport (the WebSocket consumer, `POST /api/assistant/messages`, inbound SMS) calls
`message_receive` and shows the `Reply` it returns.
"""

from __future__ import annotations

from collections.abc import Sequence

from townhall.assistant.replies import BotMessage, Reply


def message_receive(
    *,
    conversation: str | None,
    text: str,
    language: str = "en",
    citizen_id: int | None = None,
    channel: str = "web",
    photos: Sequence[str] = (),
) -> Reply:
    """Take one resident message (starting a conversation when `conversation` is None).

    `photos` are tokens of photos staged by the upload endpoint (checked, EXIF removed).
    """
    # Skeleton: the dialogue engine replaces this.
    return Reply(conversation=conversation or "", messages=(BotMessage(text=text),))


def turn_rate(*, conversation: str, turn_id: int, helpful: bool) -> None:
    """Record a thumbs up/down on one of the assistant's answers."""
    raise NotImplementedError
