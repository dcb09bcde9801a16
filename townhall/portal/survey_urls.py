"""The satisfaction survey a resolution message links to (portal/survey_views.py)."""

from django.urls import URLPattern, path

from townhall.portal import survey_views

urlpatterns: list[URLPattern] = [
    path("survey/<str:token>/", survey_views.survey_view, name="survey"),
    path(
        "survey/<str:token>/<slug:outcome>/",
        survey_views.survey_done_view,
        name="survey-done",
    ),
]
