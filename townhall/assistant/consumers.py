"""The chat widget's WebSocket (`/ws/assistant/`): a thin face over `message_receive`.

Frames are JSON text. In:

- ``{"type": "message", "conversation": key | null, "text": "...", "photos": [token, ...],
  "language": "en", "id": "client id"}``: one resident message. Answered with
  ``{"type": "reply", "id": ..., "conversation": key, "messages": [...], "status": ...}``
  (the Reply's JSON, the same as ``POST /api/assistant/messages``).
- ``{"type": "join", "conversation": key, "after": turn id, "history": false}``: listen to
  a conversation this widget already holds the key of (after a page change or a reconnect);
  answered with ``{"type": "joined", "status": ..., "messages": [...]}`` (what an agent said
  since `after`, or the whole chat with `history`).
- ``{"type": "rating", "conversation": key, "turn": id, "helpful": true}``: thumbs up/down.
- ``{"type": "ping"}``: answered ``{"type": "pong"}`` (keeps proxies from closing it).

Pushed by `live.conversation_push`: ``{"type": "message" | "status", ...}``.

Bad input never closes the socket with an error: anything unreadable, too big, binary, of an
unknown type or over the rate is answered ``{"type": "error", "code": ..., "message": ...}``
(the widget words it in the resident's language). A socket that keeps flooding past its
limit is closed (code 4029). The conversation key is the socket's proof: it joins only the
group of a conversation whose key it sent and that exists.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.http import HttpRequest

from townhall.assistant import services
from townhall.assistant.errors import ConversationNotFound
from townhall.assistant.live import EVENT_TYPE, conversation_group
from townhall.assistant.selectors_transport import (
    citizen_id_for_user,
    conversation_events,
)
from townhall.assistant.services_survey import survey_offer_by_key
from townhall.core.ratelimit import RateLimited, rate_limit_hit

log = logging.getLogger(__name__)

# Turn ids the database can hold: a bigger number names no turn (and must not reach SQL).
TURN_MAX = 2**63 - 1
# A socket over its rate this many times in a row is closed (a client that ignores errors).
FLOOD_CLOSE_AFTER = 20
CLOSE_FLOODING = 4029
MAX_JOINED = 5  # conversations one socket may listen to (a widget needs one)
ERRORS = {
    "bad_json": "That message could not be read.",
    "binary": "Only text messages are accepted.",
    "too_big": "That message is too long.",
    "unknown_type": "That kind of message is not understood.",
    "empty": "Type a message first.",
    "rate_limited": "You are sending messages too quickly. Please wait a moment.",
    "unknown_conversation": "That conversation has ended. Start a new one.",
    "unavailable": "Sorry, something went wrong. Please try again.",
}


def transport_limits() -> dict[str, int]:
    return dict(settings.TOWNHALL_ASSISTANT_TRANSPORT)


def language_of(value: object) -> str:
    """A language this site offers (its code's first part), else the site's default."""
    offered = {code.split("-")[0] for code, _name in settings.LANGUAGES}
    if isinstance(value, str) and value[:2].lower() in offered:
        return value[:2].lower()
    return str(settings.LANGUAGE_CODE).split("-")[0]


def connect_allowed(scope: dict[str, Any]) -> bool:
    """Count a new socket against `assistant_connect` for its client address (shared by
    every process through the limiter's Redis): each socket has its own message rate, so
    a flood from one address over many sockets is capped here."""
    request = HttpRequest()
    client = scope.get("client") or ("", 0)
    request.META["REMOTE_ADDR"] = str(client[0])
    for name, value in scope.get("headers") or ():
        if name == b"x-forwarded-for":
            request.META["HTTP_X_FORWARDED_FOR"] = value.decode("latin-1")
    try:
        rate_limit_hit(request, "assistant_connect")
    except RateLimited:
        return False
    return True


def photo_tokens(value: object, *, limit: int) -> list[str]:
    if not isinstance(value, list):
        return []
    return [t for t in value if isinstance(t, str) and 0 < len(t) < 4096][:limit]


class TokenBucket:
    """`rate` messages a minute with bursts of `burst`: per socket, in memory (a socket
    lives in one process, so nothing needs sharing)."""

    def __init__(self, *, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> float:
        """0 when a message may go now; else the seconds until one may."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate if self.rate > 0 else 60.0


class AssistantConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]  # channels is untyped
    groups: list[str] = []

    async def connect(self) -> None:
        self.joined: set[str] = set()
        if not await sync_to_async(connect_allowed, thread_sensitive=False)(self.scope):
            await self.close(code=CLOSE_FLOODING)  # refused before the handshake completes
            return
        limits = transport_limits()
        per_minute = max(1, int(limits["MESSAGES_PER_MINUTE"]))
        self.bucket = TokenBucket(per_minute=per_minute, burst=min(10, per_minute))
        self.refused = 0
        user = self.scope.get("user")
        user_id = user.pk if user is not None and user.is_authenticated else None
        self.citizen_id = (
            await database_sync_to_async(citizen_id_for_user)(user_id=user_id)
            if user_id is not None
            else None
        )
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for key in self.joined:
            await self.channel_layer.group_discard(conversation_group(key), self.channel_name)
        self.joined.clear()

    async def _send(self, payload: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(payload, separators=(",", ":")))

    async def _error(self, code: str, *, request_id: Any = None, **more: Any) -> None:
        payload = {"type": "error", "code": code, "message": ERRORS[code], **more}
        if request_id is not None:
            payload["id"] = request_id
        await self._send(payload)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            await self._receive(text_data, bytes_data)
        except Exception:  # never crash the socket: say sorry and keep listening
            log.exception("assistant socket: a frame failed")
            await self._error("unavailable")

    async def _receive(self, text_data: str | None, bytes_data: bytes | None) -> None:
        if text_data is None:
            await self._error("binary")
            return
        limit = int(transport_limits()["MAX_FRAME_BYTES"])
        if len(text_data) > limit or len(text_data.encode("utf-8", "replace")) > limit:
            await self._error("too_big")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._error("bad_json")
            return
        if not isinstance(content, dict):
            await self._error("bad_json")
            return
        request_id = content.get("id")
        if not isinstance(request_id, str | int) or isinstance(request_id, bool):
            request_id = None
        kind = content.get("type")
        if kind == "ping":
            await self._send({"type": "pong"})
            return
        if kind not in {"message", "join", "rating"}:
            await self._error("unknown_type", request_id=request_id)
            return
        wait = self.bucket.take()
        if wait:
            self.refused += 1
            if self.refused > FLOOD_CLOSE_AFTER:
                await self.close(code=CLOSE_FLOODING)
                return
            await self._error("rate_limited", request_id=request_id, retry_after=round(wait, 1))
            return
        self.refused = 0
        if kind == "message":
            await self._message(content, request_id)
        elif kind == "join":
            await self._join_request(content, request_id)
        else:
            await self._rating(content, request_id)

    async def _join(self, key: str) -> None:
        if key in self.joined:
            return
        if len(self.joined) >= MAX_JOINED:  # keep the newest few
            oldest = next(iter(self.joined))
            self.joined.discard(oldest)
            await self.channel_layer.group_discard(conversation_group(oldest), self.channel_name)
        self.joined.add(key)
        await self.channel_layer.group_add(conversation_group(key), self.channel_name)

    async def _message(self, content: dict[str, Any], request_id: Any) -> None:
        limits = transport_limits()
        text = content.get("text")
        text = text.strip() if isinstance(text, str) else ""
        photos = photo_tokens(content.get("photos"), limit=int(limits["MAX_PHOTOS"]))
        if not text and not photos:
            await self._error("empty", request_id=request_id)
            return
        if len(text) > int(limits["MAX_TEXT"]):
            await self._error("too_big", request_id=request_id)
            return
        key = content.get("conversation")
        key = key if isinstance(key, str) and 0 < len(key) <= 64 else None
        try:
            reply = await database_sync_to_async(services.message_receive)(
                conversation=key,
                text=text,
                language=language_of(content.get("language")),
                citizen_id=self.citizen_id,
                channel="web",
                photos=photos,
            )
        except ConversationNotFound:
            # A guessed, expired or erased key: the resident's error, not the server's
            # (no traceback in the error log for every guess).
            await self._error("unknown_conversation", request_id=request_id)
            return
        if reply.conversation:
            # The key the engine answered for: the socket now holds it, so it may listen.
            await self._join(reply.conversation)
        payload: dict[str, Any] = {"type": "reply", **reply.as_json()}
        if request_id is not None:
            payload["id"] = request_id
        await self._send(payload)

    async def _join_request(self, content: dict[str, Any], request_id: Any) -> None:
        key = content.get("conversation")
        after = content.get("after")
        after = after if isinstance(after, int) and not isinstance(after, bool) else 0
        after = min(max(after, 0), TURN_MAX)
        found = None
        if isinstance(key, str) and 0 < len(key) <= 64:
            await database_sync_to_async(survey_offer_by_key)(key=key)  # services_survey
            found = await database_sync_to_async(conversation_events)(
                key=key, after=after, history=content.get("history") is True
            )
        if found is None:
            await self._error("unknown_conversation", request_id=request_id)
            return
        assert isinstance(key, str)
        await self._join(key)
        status, messages = found
        payload = {"type": "joined", "conversation": key, "status": status, "messages": messages}
        if request_id is not None:
            payload["id"] = request_id
        await self._send(payload)

    async def _rating(self, content: dict[str, Any], request_id: Any) -> None:
        key, turn, helpful = (content.get(k) for k in ("conversation", "turn", "helpful"))
        if (
            not isinstance(key, str)
            or key not in self.joined
            or not isinstance(turn, int)
            or isinstance(turn, bool)
            or not 0 < turn <= TURN_MAX
            or not isinstance(helpful, bool)
        ):
            await self._error("unknown_conversation", request_id=request_id)
            return
        try:
            await database_sync_to_async(services.turn_rate)(
                conversation=key, turn_id=turn, helpful=helpful
            )
        except NotImplementedError:  # the dialogue engine's rating is not there yet
            log.info("assistant rating not recorded: turn_rate is not implemented")
        except (ConversationNotFound, LookupError):  # not an answer of this conversation
            await self._error("unknown_conversation", request_id=request_id)
            return
        payload: dict[str, Any] = {"type": "rated", "turn": turn}
        if request_id is not None:
            payload["id"] = request_id
        await self._send(payload)

    async def assistant_event(self, message: dict[str, Any]) -> None:
        """An event from `live.conversation_push` for a conversation this socket joined."""
        event = message.get("event")
        if isinstance(event, dict):
            await self._send(event)


assert EVENT_TYPE.replace(".", "_") == "assistant_event"  # the handler above
