"""Errors of the assistant, with stable codes."""

from __future__ import annotations

from townhall.core.errors import NotFound


class ConversationNotFound(NotFound):
    """Raise when a key names no conversation (an unknown key and a wrong one look alike)."""

    code = "assistant.conversation_not_found"
