"""A case's payments in the console: their status, and the refund form (supervisors)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from townhall.cases.access import Action, access_can
from townhall.console.views.common import case_or_404, errors_onto, staff_required
from townhall.core.errors import ValidationFailed
from townhall.payments.money import Money
from townhall.payments.selectors import payment_model_for, payments_of_case
from townhall.payments.services import PaymentUnavailable, RefundNotAllowed, refund_issue


class RefundForm(forms.Form):
    payment = forms.IntegerField(widget=forms.HiddenInput)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount to refund"), min_value=0, max_digits=12, decimal_places=3
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason (goes on the case's history)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def case_payments_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request, case_id)
    can_refund = access_can(request.user, Action.SUPERVISE, case)
    form = RefundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        found = payment_model_for(form.cleaned_data["payment"])
        if found is None or found.case_id != case.pk:
            form.add_error("payment", _("No such payment on this case."))
        else:
            try:
                money = Money.from_decimal(form.cleaned_data["amount"], found.currency)
                refund_issue(
                    payment=found,
                    amount_minor=money.amount_minor,
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except RefundNotAllowed as exc:
                return render(
                    request,
                    "payments/console_case.html",
                    {"case": case, "payments": payments_of_case(case.pk), "denied": exc.message},
                    status=403,
                )
            except ValidationFailed as exc:
                errors_onto(form, exc, "amount")
            except PaymentUnavailable as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Refund made and recorded on the case."))
                return redirect(reverse("console:case-payments", args=[case.pk]))
    return render(
        request,
        "payments/console_case.html",
        {
            "case": case,
            "payments": payments_of_case(case.pk),
            "form": form,
            "can_refund": can_refund,
        },
        status=400 if request.method == "POST" else 200,
    )
