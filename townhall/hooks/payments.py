"""The payment provider's webhook: /hooks/payments/<provider>/ (docs/payments.md).

Counted against the hooks' rate limit before anything else; the signature and its
timestamp are checked by the payments app, then the delivery is remembered for the
signature's window (hooks/replay.py) so the very same request cannot be played twice;
each event id is applied once whatever its signature. Answers JSON, 400 for bad input.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from townhall.hooks.views import _replayed, hooks_rate_limited
from townhall.payments.conf import payments_setting
from townhall.payments.webhooks import webhook_receive

BODY_MAX = 256 * 1024  # a Stripe event is a few kB


@csrf_exempt
@require_POST
@hooks_rate_limited
def payment_webhook_view(request: HttpRequest, provider: str) -> HttpResponse:
    if len(request.body) > BODY_MAX:
        return JsonResponse(
            {"errors": [{"field": "body", "message": "The event is too large."}]}, status=413
        )
    signature = request.headers.get("Stripe-Signature", "")
    # Remembered for as long as its timestamp is accepted, either side of now.
    window = 2 * int(payments_setting("TOLERANCE_SECONDS"))
    result = webhook_receive(
        provider=provider,
        body=request.body,
        headers=request.headers,
        first_time=lambda: not _replayed(request, f"pay:{provider}"[:20], signature, window),
    )
    if result.status >= 400:
        return JsonResponse(
            {"errors": [{"field": None, "message": result.message}], "outcome": result.outcome},
            status=result.status,
        )
    return JsonResponse({"outcome": result.outcome, "message": result.message})
