"""Bin reminders and alerts near an address (included by townhall/portal/urls.py)."""

from django.urls import URLPattern, path

from townhall.portal import subscriptions

urlpatterns: list[URLPattern] = [
    path("bins/<int:place_id>/reminders/", subscriptions.bin_reminders_view, name="bin-reminders"),
    path("alerts/", subscriptions.alerts_view, name="alerts"),
    path("alerts/<int:place_id>/", subscriptions.area_alerts_view, name="area-alerts"),
    path("subscriptions/sent/", subscriptions.subscription_sent_view, name="subscription-sent"),
    path(
        "subscriptions/confirm/<str:token>/",
        subscriptions.subscription_confirm_view,
        name="subscription-confirm",
    ),
    path(
        "subscriptions/stop/<str:token>/",
        subscriptions.subscription_stop_view,
        name="subscription-stop",
    ),
]
