"""Writes of the live chat: hand-off to a person, the queue, an agent taking and answering."""

from __future__ import annotations

from typing import Any


def conversation_handoff(*, conversation: Any, reason: str) -> None:
    """Queue the conversation for a person (or leave a message on a case out of hours).

    Skeleton: the hand-off module replaces this.
    """


def resident_message_relay(*, conversation: Any, turn: Any) -> None:
    """Pass a resident's message to the person who owns the conversation (or the queue).

    Skeleton: the live-chat module replaces this.
    """
