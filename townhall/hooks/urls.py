from django.urls import path

from townhall.hooks import email_inbound, payments, views, voice, workorders

app_name = "hooks"
urlpatterns = [
    path("sms/status/", views.sms_status_view, name="sms-status"),
    path("sms/inbound/", views.sms_inbound_view, name="sms-inbound"),
    path("email/inbound/", views.email_inbound_view, name="email-inbound"),
    path("intake/<slug:slug>/", views.intake_webhook_view, name="intake-webhook"),
    # The phone assistant (issue 20, docs/voice.md).
    path("voice/incoming/", voice.voice_incoming_view, name="voice-incoming"),
    path("voice/turn/", voice.voice_turn_view, name="voice-turn"),
    path("voice/recording/", voice.voice_recording_view, name="voice-recording"),
    path("payments/<slug:provider>/", payments.payment_webhook_view, name="payment-webhook"),
    # Work-order systems' status events on cases forwarded to them (issue 22).
    path("workorders/<slug:slug>/", workorders.workorder_event_view, name="workorder-event"),
    # Before anymail's own URLs (townhall/urls.py), which these shadow for inbound mail.
    path(
        "anymail/<str:provider>/inbound/",
        email_inbound.provider_inbound_view,
        name="email-provider-inbound",
    ),
    path(
        "anymail/mailgun/inbound_mime/",
        email_inbound.provider_inbound_view,
        {"provider": "mailgun"},
        name="email-provider-inbound-mime",
    ),
]
