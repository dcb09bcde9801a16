from django.urls import path

from townhall.portal import payment_views

urlpatterns = [
    path("pay/<str:token>/", payment_views.pay_view, name="payment"),
    path("pay/<str:token>/done/", payment_views.pay_done_view, name="payment-done"),
    path(
        "pay/sandbox/checkout/<str:session_id>/",
        payment_views.sandbox_checkout_view,
        name="payment-sandbox",
    ),
]
