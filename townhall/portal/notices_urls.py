"""Public pages of the notices app (included by townhall/portal/urls.py)."""

from django.urls import URLPattern, path

from townhall.portal import notices_views

urlpatterns: list[URLPattern] = [
    path("notices/", notices_views.notices_view, name="notices"),
    path("notices/near/<int:place_id>/", notices_views.notices_near_view, name="notices-near"),
    path("notices/<int:notice_id>/", notices_views.notice_view, name="notice"),
]
