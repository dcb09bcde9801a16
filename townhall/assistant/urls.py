"""Routes of the assistant's HTTP API (dialogue, ratings)."""

from django.urls import URLPattern, path

from townhall.assistant import views

app_name = "assistant"
urlpatterns: list[URLPattern] = [
    path("messages", views.messages_view, name="messages"),
    path("ratings", views.ratings_view, name="ratings"),
]
