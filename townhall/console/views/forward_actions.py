"""Staff actions of the "Forwarded" panel: Resend a failed forward, Withdraw one (with a
reason), Forward to... another body. Each is a POST by staff who may work on the case (as
every case action); the change is a `forwarding.sending` service, its refusal is said on
the page again (400)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from townhall.cases.access import Action
from townhall.console.views.case_page import failed
from townhall.console.views.common import (
    back_to_case,
    case_or_404,
    require,
    staff_of,
    staff_required,
)
from townhall.console.views.forwards import may_forward
from townhall.core.errors import ValidationFailed
from townhall.forwarding.selectors import body_active_get, forward_of_case
from townhall.forwarding.sending import forward_resend, forward_to, forward_withdraw

REASON_MAX = 300


def _refused(request: HttpRequest, case: Any, exc: ValidationFailed) -> HttpResponse:
    details = "; ".join(str(m) for problems in exc.details.values() for m in problems)
    messages.error(request, f"{exc.message} {details}".strip())
    return failed(request, case)


def _case_and_forward(request: HttpRequest, case_id: int, forward_id: int) -> tuple[Any, Any]:
    case = case_or_404(request, case_id)
    require(request, Action.WORK, case)
    if not may_forward(request.user, case):
        raise Http404
    forward = forward_of_case(case_id=case.pk, forward_id=forward_id)
    if forward is None:
        raise Http404
    return case, forward


@require_POST
@staff_required
def forward_resend_view(request: HttpRequest, case_id: int, forward_id: int) -> HttpResponse:
    case, forward = _case_and_forward(request, case_id, forward_id)
    try:
        forward_resend(forward=forward, actor=staff_of(request))
    except ValidationFailed as exc:
        return _refused(request, case, exc)
    messages.success(request, _("Sending it again."))
    return back_to_case(case)


@require_POST
@staff_required
def forward_withdraw_view(request: HttpRequest, case_id: int, forward_id: int) -> HttpResponse:
    case, forward = _case_and_forward(request, case_id, forward_id)
    reason = request.POST.get("reason", "").strip()[:REASON_MAX]
    try:
        forward_withdraw(forward=forward, actor=staff_of(request), reason=reason)
    except ValidationFailed as exc:
        return _refused(request, case, exc)
    messages.success(request, _("Taken back: the case is ours again."))
    return back_to_case(case)


@require_POST
@staff_required
def forward_to_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request, case_id)
    require(request, Action.WORK, case)
    if not may_forward(request.user, case):
        raise Http404
    raw = request.POST.get("body", "")
    body = body_active_get(int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if body is None:
        messages.error(request, _("Choose a body to forward the case to."))
        return failed(request, case)
    try:
        forward_to(case=case, body=body, actor=staff_of(request))
    except ValidationFailed as exc:
        return _refused(request, case, exc)
    messages.success(request, _("Forwarded to %(body)s.") % {"body": body.name})
    return back_to_case(case)
