"""Work-order systems' status events: /hooks/workorders/<body-slug>/
(docs/forwarding-inbound.md).

Counted against the hooks' rate limit before anything else, read up to the forwarding
app's size limit without going through Django's request limits, then handed whole to
`forwarding.inbound.inbound_receive`, which checks the signature and applies the event
once. Answers JSON only.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from townhall.core.security import SecurityEventKind, security_event
from townhall.forwarding.inbound import BODY_MAX, inbound_receive
from townhall.hooks.views import _body_up_to, hooks_rate_limited


@csrf_exempt
@require_POST
@hooks_rate_limited
def workorder_event_view(request: HttpRequest, slug: str) -> HttpResponse:
    raw = _body_up_to(request, BODY_MAX)
    if raw is None:
        message = f"The event is larger than the {BODY_MAX:,} bytes accepted."
        return JsonResponse({"errors": [{"field": "body", "message": message}]}, status=413)
    answer = inbound_receive(
        slug=slug,
        raw=raw,
        signature=request.headers.get("X-Townhall-Signature", ""),
        timestamp=request.headers.get("X-Townhall-Timestamp", ""),
    )
    if answer.status == 401:
        security_event(
            SecurityEventKind.SIGNATURE_REFUSED,
            request=request,
            subject=f"workorders:{slug}"[:60],
            detail={"why": "signature"},
        )
    return JsonResponse(answer.body, status=answer.status)
