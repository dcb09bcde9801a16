"""Console URLs of public notices and recalls (issue 21): the list, one notice, and its
actions (console/views/notices.py)."""

from django.urls import URLPattern, path

from townhall.console.views import notices

urlpatterns: list[URLPattern] = [
    path("notices/", notices.notices_view, name="notices"),
    path("notices/expire/", notices.notices_expire_view, name="notices-expire"),
    path("notices/<int:notice_id>/", notices.notice_view, name="notice"),
    path("notices/<int:notice_id>/publish/", notices.notice_publish_view, name="notice-publish"),
    path("notices/<int:notice_id>/withdraw/", notices.notice_withdraw_view, name="notice-withdraw"),
    path("notices/<int:notice_id>/edit/", notices.notice_edit_view, name="notice-edit"),
    path("notices/<int:notice_id>/import/", notices.notice_import_view, name="notice-import"),
]
