"""The ASGI application bench/assistant_live.py serves: Townhall's own (townhall.asgi) with
one more socket, /ws/echo/, the reference: the same server, the same middleware stack
(origin check, session and user), no engine and no database: it answers each frame with
the same shape of JSON the chat's consumer sends."""

from __future__ import annotations

import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townhall.settings")

from channels.auth import AuthMiddlewareStack
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.urls import path

from townhall.asgi import django_application
from townhall.assistant.routing import websocket_urlpatterns


class EchoConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        content = json.loads(text_data or "{}")
        reply = {
            "type": "reply",
            "id": content.get("id"),
            "conversation": content.get("conversation") or "",
            "messages": [{"text": content.get("text", ""), "role": "bot", "quick_replies": []}],
            "status": "bot",
        }
        await self.send(text_data=json.dumps(reply, separators=(",", ":")))


application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": OriginValidator(
            AuthMiddlewareStack(
                URLRouter([*websocket_urlpatterns, path("ws/echo/", EchoConsumer.as_asgi())])
            ),
            [*settings.ALLOWED_HOSTS],
        ),
    }
)
