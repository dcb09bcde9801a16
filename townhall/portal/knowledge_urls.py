"""Public pages of the knowledge app (included by townhall/portal/urls.py)."""

from django.urls import URLPattern, path

from townhall.portal import knowledge_views

urlpatterns: list[URLPattern] = [
    path("help/", knowledge_views.help_view, name="help"),
    path("help/<slug:slug>/", knowledge_views.help_article_view, name="help-article"),
    path("help/<slug:slug>/feedback/", knowledge_views.help_feedback_view, name="help-feedback"),
]
