from django.urls import path

from townhall.hooks import views

app_name = "hooks"
urlpatterns = [
    path("sms/status/", views.sms_status_view, name="sms-status"),
    path("sms/inbound/", views.sms_inbound_view, name="sms-inbound"),
    path("email/inbound/", views.email_inbound_view, name="email-inbound"),
    path("intake/<slug:slug>/", views.intake_webhook_view, name="intake-webhook"),
]
