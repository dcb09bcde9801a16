"""What the assistant says back, in one shape for every transport (WebSocket, HTTP, SMS)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class QuickReply:
    label: str  # shown on the button
    text: str  # sent as the resident's next message when pressed


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class BotMessage:
    text: str
    quick_replies: tuple[QuickReply, ...] = ()
    sources: tuple[Source, ...] = ()
    # The turn id, so the widget can send thumbs up/down for this answer.
    turn: int | None = None
    # "bot" or "agent" (a person answering in the live chat) or "system".
    role: str = "bot"
    # Anything else a face may show (e.g. a case reference, an iCal link).
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    conversation: str  # the conversation's key
    messages: tuple[BotMessage, ...]
    # Conversation status after this turn: bot / queued / agent / closed.
    status: str = "bot"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)
