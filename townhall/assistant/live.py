"""Pushing events to a conversation's open widgets (and the console) over the channel layer.

Group names: `assistant.<key>` for one conversation's widgets and agent pages,
`assistant.queue` for the console's live-chat queue.

Events are JSON objects with a `type`; the widget understands

- ``{"type": "message", "messages": [<BotMessage as JSON>, ...], "status": "agent"}``:
  something to show (an agent's reply has ``"role": "agent"``; ``turn`` is the Turn id);
- ``{"type": "status", "status": "queued" | "agent" | "bot" | "closed"}``: the
  conversation changed hands (the widget says "A member of staff has joined" and so on);
- ``{"type": "agent_joined", "name": ..., "text": ..., "turn": ...}`` and
  ``{"type": "closed", "text": ..., "turn": ...}`` from the console's live chat
  (services_live): the widget shows `text` and takes the status "agent" or "closed".

A push is sent when the surrounding transaction commits (at once outside one), so a socket
never hears of a turn that a rollback then removed, and the events endpoint (the HTTP
fallback) and the socket always agree.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

QUEUE_GROUP = "assistant.queue"
# The channel layer's handler name on the consumers (`assistant_event`).
EVENT_TYPE = "assistant.event"
_SAFE_KEY = re.compile(r"^[A-Za-z0-9_\-]{8,80}$")


def conversation_group(key: str) -> str:
    """The group of a conversation's sockets. Keys the layer cannot name (odd characters,
    too long) are hashed, so any key gets a valid and stable group name."""
    if not _SAFE_KEY.match(key):
        key = "h" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:40]
    return f"assistant.{key}"


def _group_send(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:  # no CHANNEL_LAYERS: nobody can be listening
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": EVENT_TYPE, "event": event})
    except Exception:  # a layer outage must not undo the turn: the widget polls or reloads
        log.exception("live push to %s failed", group.split(".")[0])


def conversation_push(key: str, event: dict[str, Any]) -> None:
    """Send `event` to every socket of conversation `key` (after the transaction commits)."""
    group = conversation_group(key)
    transaction.on_commit(lambda: _group_send(group, {**event, "conversation": key}))


def queue_push(event: dict[str, Any]) -> None:
    """Send `event` to the console pages watching the live-chat queue (after commit)."""
    transaction.on_commit(lambda: _group_send(QUEUE_GROUP, event))
