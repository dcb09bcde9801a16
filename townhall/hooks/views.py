"""Endpoints providers call: SMS delivery reports and replies (STOP/START).

Each request must carry the provider's signature over our public URL and its parameters;
anything else gets 403 and changes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from townhall.core.errors import ValidationFailed
from townhall.notify.channels import channel_adapter
from townhall.notify.channels.sms import HttpSmsGateway
from townhall.notify.services import notification_status_report, sms_inbound_keyword
from townhall.people.contacts import phone_normalise

SIGNATURE_HEADERS = ("HTTP_X_TWILIO_SIGNATURE", "HTTP_X_SMS_SIGNATURE")


def _authentic(request: HttpRequest) -> bool:
    gateway = channel_adapter("sms")
    if not isinstance(gateway, HttpSmsGateway):
        return False
    signature = next((request.META[h] for h in SIGNATURE_HEADERS if h in request.META), "")
    # Behind a proxy the provider signed the public address, not the one we see.
    url = settings.TOWNHALL_PUBLIC_URL.rstrip("/") + request.get_full_path()
    params = {k: request.POST[k] for k in request.POST}
    return bool(signature) and gateway.request_is_authentic(
        url=url, params=params, signature=signature
    )


@csrf_exempt
@require_POST
def sms_status_view(request: HttpRequest) -> HttpResponse:
    if not _authentic(request):
        return HttpResponse("bad signature", status=403, content_type="text/plain")
    message_id = request.POST.get("MessageSid", "")
    status = request.POST.get("MessageStatus", "")
    if not message_id or not status:
        return HttpResponse(
            "MessageSid and MessageStatus are required", status=400, content_type="text/plain"
        )
    notification_status_report(
        provider_message_id=message_id, status=status, detail=request.POST.get("ErrorCode", "")
    )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def sms_inbound_view(request: HttpRequest) -> HttpResponse:
    if not _authentic(request):
        return HttpResponse("bad signature", status=403, content_type="text/plain")
    try:
        number = phone_normalise(
            request.POST.get("From", ""), region=settings.TOWNHALL_PHONE_REGION
        )
    except ValidationFailed:
        return HttpResponse("From is not a phone number", status=400, content_type="text/plain")
    reply = sms_inbound_keyword(from_number=number, body=request.POST.get("Body", ""))
    # Other texts will reach the intake pipeline (issue: channels); answer nothing for now.
    body = f"<Message>{escape(reply)}</Message>" if reply else ""
    return HttpResponse(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>',
        content_type="text/xml",
    )
