"""Writes of the live chat: hand-off to a person, the queue, an agent taking and answering."""

from __future__ import annotations

from typing import Any


def conversation_handoff(*, conversation: Any, reason: str) -> None:
    """Queue the conversation for a person (or leave a message on a case out of hours).

    Skeleton: the hand-off module replaces this.
    """
