"""The console's live-chat pages over WebSocket: `/ws/console/live-chat/`.

Staff who work the live chat join the queue group; a page showing one conversation sends
`{"watch": <conversation id>}` and, if that member of staff may see it, joins the
conversation's group (the key is looked up here: it never reaches the page). Whatever is
pushed to those groups becomes a bare `{"refresh": true}` for the page, which then fetches
the fragment over HTTP, where every read is checked again: no transcript travels over this
socket, so a page that lost its right to see a conversation learns nothing from it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.http.request import validate_host

from townhall.assistant.live import QUEUE_GROUP, conversation_group
from townhall.assistant.selectors_live import live_chat_may_work, live_conversation_get

# A page follows one conversation; a misbehaving one cannot join hundreds of groups.
MAX_WATCHED = 3


def console_origin(scope: dict[str, Any]) -> bool:
    """Is the page that opened the socket one of this site's own (ALLOWED_HOSTS)? The
    ASGI stack also admits the council pages that embed the residents' widget
    (TOWNHALL_ASSISTANT_ORIGINS); the console's socket needs none of them. No Origin
    (not a browser) is left to that stack, which refuses it."""
    for name, value in scope.get("headers") or ():
        if name == b"origin":
            host = urlsplit(value.decode("latin-1")).hostname or ""
            return bool(host) and validate_host(host, list(settings.ALLOWED_HOSTS))
    return True


def _key_for(user: Any, conversation_id: int) -> str | None:
    found = live_conversation_get(user=user, conversation_id=conversation_id)
    return found.key if found is not None else None


class StaffLiveChatConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """Refresh signals for the live-chat queue and the conversations a page shows."""

    async def connect(self) -> None:
        self.joined: list[str] = []
        user = self.scope.get("user")
        allowed = console_origin(self.scope) and await database_sync_to_async(live_chat_may_work)(
            user
        )
        if not allowed or self.channel_layer is None:
            await self.close(code=4403)
            return
        await self._join(QUEUE_GROUP)
        await self.accept()

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.joined.append(group)

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Only small JSON text frames are read; anything else (binary, malformed, huge) is
        ignored rather than crashing the socket (a page only ever sends `watch`)."""
        if text_data is None or len(text_data) > 1024:
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        watch = content.get("watch") if isinstance(content, dict) else None
        if not isinstance(watch, int) or isinstance(watch, bool):
            return
        if len(self.joined) > MAX_WATCHED:
            return
        key = await database_sync_to_async(_key_for)(self.scope.get("user"), watch)
        if key is not None and conversation_group(key) not in self.joined:
            await self._join(conversation_group(key))

    async def dispatch(self, message: dict[str, Any]) -> None:
        """WebSocket frames as usual; any group event (whatever the transport names its
        type) becomes a refresh signal."""
        if str(message.get("type", "")).startswith("websocket."):
            await super().dispatch(message)
            return
        await self.send_json({"refresh": True})
