"""WebSocket routes of the assistant (the ASGI application includes `websocket_urlpatterns`)."""

from django.urls import path

from townhall.assistant.consumers_staff import StaffLiveChatConsumer

websocket_urlpatterns = [
    path("ws/console/live-chat/", StaffLiveChatConsumer.as_asgi()),
]
