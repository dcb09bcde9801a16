"""Routes of the assistant transport (settings and CSRF token, HTTP fallback polling,
photo upload); the WebSocket is in routing.py."""

from django.urls import path

from townhall.assistant import views_transport

app_name = "assistant_transport"
urlpatterns = [
    path("transport", views_transport.transport_view, name="transport"),
    path("events", views_transport.events_view, name="events"),
    path("photos", views_transport.photo_upload_view, name="photos"),
]
