"""WebSocket routes of the assistant (served by the ASGI application, townhall/asgi.py)."""

from django.urls import path

from townhall.assistant.consumers import AssistantConsumer

websocket_urlpatterns = [
    path("ws/assistant/", AssistantConsumer.as_asgi()),
]
