"""Pushing events to a conversation's open widgets (and the console) over the channel layer.

Group names: `assistant.<key>` for one conversation's widgets and agent pages,
`assistant.queue` for the console's live-chat queue.
"""

from __future__ import annotations

from typing import Any

QUEUE_GROUP = "assistant.queue"


def conversation_group(key: str) -> str:
    return f"assistant.{key}"


def conversation_push(key: str, event: dict[str, Any]) -> None:
    """Skeleton: the transport module sends `event` to the conversation's group."""


def queue_push(event: dict[str, Any]) -> None:
    """Skeleton: the transport module sends `event` to the live-chat queue group."""
