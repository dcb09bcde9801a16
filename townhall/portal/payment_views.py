"""Paying a fee: /pay/<token>/ (what is owed, and on to the provider's checkout), the page
the provider sends the resident back to, and the sandbox's own checkout page.

The token is the payment's unguessable link (payments.links): no case number or payment
id appears in these addresses, and any other string is a 404. No JavaScript is needed.
"""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from townhall.notify.links import public_url
from townhall.payments.selectors import PaymentView, payment_by_token, payment_model_for
from townhall.payments.services import (
    PaymentClosed,
    PaymentUnavailable,
    checkout_start,
    sandbox_checkout_open,
    sandbox_checkout_submit,
)
from townhall.portal.throttle import portal_rate_limited


class PayForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address for your receipt (optional)"), required=False, max_length=254
    )


def _payment_or_404(token: str) -> PaymentView:
    found = payment_by_token(token, language=get_language())
    if found is None:
        raise Http404
    return found


@require_http_methods(["GET", "POST"])
@portal_rate_limited("payment", methods=None)
def pay_view(request: HttpRequest, token: str) -> HttpResponse:
    payment = _payment_or_404(token)
    form = PayForm(request.POST or None)
    error = ""
    if request.method == "POST" and payment.payable and form.is_valid():
        done = public_url(reverse("portal:payment-done", args=[token]))
        model = payment_model_for(payment.pk)
        assert model is not None
        try:
            url = checkout_start(
                payment=model,
                email=form.cleaned_data["email"],
                language=get_language() or "en",
                success_url=done,
                cancel_url=public_url(reverse("portal:payment", args=[token])),
            )
        except PaymentClosed:
            payment = _payment_or_404(token)
        except PaymentUnavailable as exc:
            error = exc.message
        else:
            return HttpResponseRedirect(url)
    return render(
        request,
        "payments/pay.html",
        {"payment": payment, "form": form, "error": error, "token": token},
        status=503 if error else 200,
    )


@require_http_methods(["GET"])
@portal_rate_limited("payment", methods=None)
def pay_done_view(request: HttpRequest, token: str) -> HttpResponse:
    payment = _payment_or_404(token)
    return render(request, "payments/done.html", {"payment": payment, "token": token})


@require_http_methods(["GET", "POST"])
@portal_rate_limited("payment", methods=None)
def sandbox_checkout_view(request: HttpRequest, session_id: str) -> HttpResponse:
    """The sandbox provider's hosted checkout (demo and tests): pay or decline."""
    checkout = sandbox_checkout_open(session_id)
    if checkout is None:
        raise Http404
    if request.method == "POST":
        url = sandbox_checkout_submit(session_id, pay=request.POST.get("outcome") == "pay")
        if url is not None:
            return HttpResponseRedirect(url)
        checkout = sandbox_checkout_open(session_id)
    return render(request, "payments/sandbox_checkout.html", {"checkout": checkout})
