"""Routes of the assistant's HTTP API (dialogue, ratings)."""

from django.urls import URLPattern, path

from townhall.assistant import views
from townhall.assistant.openapi import openapi_view

app_name = "assistant"
urlpatterns: list[URLPattern] = [
    path("messages", views.messages_view, name="messages"),
    path("ratings", views.ratings_view, name="ratings"),
    path("openapi.json", openapi_view, name="openapi"),
]
