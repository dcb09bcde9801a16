"""WebSocket routes of the assistant (served by the ASGI application, townhall/asgi.py):
the residents' chat, and the console's live-chat pages (staff only)."""

from django.urls import path

from townhall.assistant.consumers import AssistantConsumer
from townhall.assistant.consumers_staff import StaffLiveChatConsumer

websocket_urlpatterns = [
    path("ws/assistant/", AssistantConsumer.as_asgi()),
    path("ws/console/live-chat/", StaffLiveChatConsumer.as_asgi()),
]
