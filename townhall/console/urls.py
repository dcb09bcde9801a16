from django.urls import path

from townhall.console import (
    account,
    urls_appointments,
    urls_experience,
    urls_forwarding,
    urls_insights,
    urls_notices,
    views,
)
from townhall.console.views import payments as payment_views

app_name = "console"
urlpatterns = [
    path("", views.queue_view, name="home"),
    path("queues/<slug:slug>/", views.queue_view, name="queue"),
    path("bulk/", views.bulk_view, name="bulk"),
    path("queues/<slug:slug>/save/", views.view_save, name="view-save"),
    path("views/<int:view_id>/delete/", views.view_delete, name="view-delete"),
    path("find/", views.find_view, name="find"),
    path("cases/<int:case_id>/", views.case_view, name="case"),
    path("cases/<int:case_id>/note/", views.note_view, name="note"),
    path(
        "cases/<int:case_id>/payments/",
        payment_views.case_payments_view,
        name="case-payments",
    ),
    path("cases/<int:case_id>/status/", views.status_view, name="status"),
    path("cases/<int:case_id>/assign/", views.assign_view, name="assign"),
    path("cases/<int:case_id>/merge/", views.merge_view, name="merge"),
    path("cases/<int:case_id>/triage/", views.triage_view, name="triage"),
    path(
        "cases/<int:case_id>/duplicates/<int:suggestion_id>/",
        views.duplicate_view,
        name="duplicate",
    ),
    path("cases/<int:case_id>/split/", views.split_view, name="split"),
    path("cases/<int:case_id>/priority/", views.priority_view, name="priority"),
    path("cases/<int:case_id>/public-summary/", views.public_summary_view, name="public-summary"),
    path("cases/<int:case_id>/new-link/", views.link_rotate_view, name="link-rotate"),
    path("cases/<int:case_id>/photos/<int:photo_id>/", views.photo_view, name="photo"),
    path(
        "cases/<int:case_id>/attachments/<int:attachment_id>/",
        views.attachment_view,
        name="attachment",
    ),
    path("cases/<int:case_id>/due/", views.due_view, name="due"),
    path("cases/<int:case_id>/transfer/", views.transfer_view, name="transfer"),
    path("cases/<int:case_id>/time/", views.time_view, name="time"),
    path("cases/<int:case_id>/watch/", views.watch_view, name="watch"),
    path(
        "cases/<int:case_id>/resident-export/",
        views.resident_export_view,
        name="resident-export",
    ),
    path("cases/<int:case_id>/call/", views.call_update_view, name="call-update"),
    path("team/", views.team_view, name="team"),
    path("calls/", views.call_view, name="call"),
    path("live-chat/", views.live_queue_view, name="live-chat"),
    path("live-chat/teach/", views.live_teach_view, name="live-chat-teach"),
    path(
        "live-chat/<int:conversation_id>/",
        views.live_conversation_view,
        name="live-chat-conversation",
    ),
    path("live-chat/<int:conversation_id>/take/", views.live_take_view, name="live-chat-take"),
    path("live-chat/<int:conversation_id>/reply/", views.live_reply_view, name="live-chat-reply"),
    path(
        "live-chat/<int:conversation_id>/release/",
        views.live_release_view,
        name="live-chat-release",
    ),
    path("live-chat/<int:conversation_id>/close/", views.live_close_view, name="live-chat-close"),
    path("account/two-step/", account.two_step_view, name="two-step"),
    path("account/verify/", account.verify_view, name="verify"),
]
# Experience: the supervisors' flags (low scores, frustrated residents) and each case's
# frustration breakdown; insights: dashboards, drill-down, staff performance, exports.
urlpatterns += [*urls_experience.urlpatterns, *urls_insights.urlpatterns]
# Appointments: the day's list per office and the prepared appointment page (issue 21).
urlpatterns += urls_appointments.urlpatterns
# Public notices and recalls: list, one notice, publish, withdraw, edit, import codes.
urlpatterns += urls_notices.urlpatterns
# Forwarding: the case page's Resend, Withdraw and Forward to... (issue 22).
urlpatterns += urls_forwarding.urlpatterns
