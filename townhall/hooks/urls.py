from django.urls import path

from townhall.hooks import email_inbound, payments, views

app_name = "hooks"
urlpatterns = [
    path("sms/status/", views.sms_status_view, name="sms-status"),
    path("sms/inbound/", views.sms_inbound_view, name="sms-inbound"),
    path("email/inbound/", views.email_inbound_view, name="email-inbound"),
    path("intake/<slug:slug>/", views.intake_webhook_view, name="intake-webhook"),
    path("payments/<slug:provider>/", payments.payment_webhook_view, name="payment-webhook"),
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
