"""Console URLs of forwarding (issue 22): the case page's Resend, Withdraw and Forward to...
(console/views/forward_actions.py)."""

from django.urls import URLPattern, path

from townhall.console.views.forward_actions import (
    forward_resend_view,
    forward_to_view,
    forward_withdraw_view,
)

urlpatterns: list[URLPattern] = [
    path(
        "cases/<int:case_id>/forwards/<int:forward_id>/resend/",
        forward_resend_view,
        name="forward-resend",
    ),
    path(
        "cases/<int:case_id>/forwards/<int:forward_id>/withdraw/",
        forward_withdraw_view,
        name="forward-withdraw",
    ),
    path("cases/<int:case_id>/forward/", forward_to_view, name="forward-to"),
]
