"""Endpoints providers and partners call: SMS delivery reports, inbound texts, inbound
e-mail (raw MIME) and partners' signed messages; all but delivery reports go into the
intake pipeline.

Each request must carry the provider's signature over our public URL and its parameters;
anything else gets 403 and changes nothing.
"""

from __future__ import annotations

import base64
import hmac
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser
from urllib.parse import parse_qs

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from townhall.assistant.services_sms import sms_message_receive
from townhall.core.errors import ValidationFailed
from townhall.core.ratelimit import RateLimited, rate_limited
from townhall.core.security import SecurityEventKind, security_event
from townhall.experience.services import survey_answer_by_sms
from townhall.hooks.payloads import partner_message_check
from townhall.hooks.replay import callback_claim, callback_release
from townhall.intake.channels import (
    intake_email_receive,
    intake_sms_receive,
    intake_webhook_receive,
    sms_continues_case,
    webhook_signature_ok,
)
from townhall.intake.models import Outcome, WebhookSource
from townhall.intake.normalise import line_clean, xml_clean
from townhall.intake.services import IntakeResult
from townhall.notify.channels import channel_adapter
from townhall.notify.channels.sms import HttpSmsGateway
from townhall.notify.channels.webhook import DEFAULT_TOLERANCE_SECONDS
from townhall.notify.services import notification_status_report, sms_inbound_keyword
from townhall.people.contacts import phone_normalise

SIGNATURE_HEADERS = ("HTTP_X_TWILIO_SIGNATURE", "HTTP_X_SMS_SIGNATURE")
# A timestamped signature is accepted this far either side of now: remembered that long.
REPLAY_WINDOW = 2 * DEFAULT_TOLERANCE_SECONDS
STALE_OR_FORGED = "Bad or missing X-Townhall-Signature, or an X-Townhall-Timestamp too far off."


REPLAYED = "This callback was already taken (a replay)."


def _sms_signature(request: HttpRequest) -> str:
    return str(next((request.META[h] for h in SIGNATURE_HEADERS if h in request.META), ""))


def _replayed(request: HttpRequest, kind: str, signature: str | bytes, window: int) -> bool:
    """Whether this signed callback was taken before (then it is refused and logged)."""
    if callback_claim(kind, signature, window_seconds=window):
        return False
    security_event(
        SecurityEventKind.SIGNATURE_REFUSED, request=request, subject=kind, detail={"why": "replay"}
    )
    return True


def _too_many(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    message = f"Too many requests: try again in {exc.retry_after} seconds."
    return JsonResponse({"errors": [{"field": None, "message": message}]}, status=429)


# Every hook counts against the limit "hooks" per client, before its signature is checked.
hooks_rate_limited = rate_limited("hooks", respond=_too_many, methods=None)


def _authentic(request: HttpRequest) -> bool:
    gateway = channel_adapter("sms")
    if not isinstance(gateway, HttpSmsGateway):
        return False
    signature = _sms_signature(request)
    # Behind a proxy the provider signed the public address, not the one we see.
    url = settings.TOWNHALL_PUBLIC_URL.rstrip("/") + request.get_full_path()
    params = {k: request.POST[k] for k in request.POST}
    return bool(signature) and gateway.request_is_authentic(
        url=url, params=params, signature=signature
    )


@csrf_exempt
@require_POST
@hooks_rate_limited
def sms_status_view(request: HttpRequest) -> HttpResponse:
    if not _authentic(request):
        return HttpResponse("bad signature", status=403, content_type="text/plain")
    message_id = request.POST.get("MessageSid", "")
    status = request.POST.get("MessageStatus", "")
    if not message_id or not status:
        return HttpResponse(
            "MessageSid and MessageStatus are required", status=400, content_type="text/plain"
        )
    # The provider's signature carries no time: it is remembered for the replay window.
    signature, window = _sms_signature(request), settings.TOWNHALL_SMS_REPLAY_SECONDS
    if _replayed(request, "sms-status", signature, window):
        return HttpResponse(REPLAYED, status=409, content_type="text/plain")
    try:
        notification_status_report(
            provider_message_id=message_id, status=status, detail=request.POST.get("ErrorCode", "")
        )
    except Exception:
        callback_release("sms-status", signature)
        raise
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
@hooks_rate_limited
def sms_inbound_view(request: HttpRequest) -> HttpResponse:
    if not _authentic(request):
        return HttpResponse("bad signature", status=403, content_type="text/plain")
    try:
        number = phone_normalise(
            request.POST.get("From", ""), region=settings.TOWNHALL_PHONE_REGION
        )
    except ValidationFailed:
        return HttpResponse("From is not a phone number", status=400, content_type="text/plain")
    signature, window = _sms_signature(request), settings.TOWNHALL_SMS_REPLAY_SECONDS
    if _replayed(request, "sms-inbound", signature, window):
        return HttpResponse(REPLAYED, status=409, content_type="text/plain")
    text = request.POST.get("Body", "")
    try:
        reply = sms_inbound_keyword(from_number=number, body=text)
        if reply is None:  # "1".."5" after a resolution SMS answers its survey
            reply = survey_answer_by_sms(phone=number, text=text)
        if (
            reply is None
            and settings.TOWNHALL_ASSISTANT_SMS
            and not sms_continues_case(from_number=number, body=text)
        ):
            # A question, not a report nor a reply about a case: the assistant answers.
            answered = sms_message_receive(from_number=number, text=text)
            if answered is not None:
                reply = answered or ""
        if reply is None:
            result = intake_sms_receive(
                from_number=number,
                body=text,
                message_id=request.POST.get("MessageSid", ""),
                raw={k: request.POST[k] for k in request.POST},
            )
            reply = result.reply or None
    except Exception:
        callback_release("sms-inbound", signature)
        raise
    body = f"<Message>{escape(xml_clean(reply))}</Message>" if reply else ""
    return HttpResponse(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>',
        content_type="text/xml",
    )


def _result_json(result: IntakeResult, *, status: int = 202) -> JsonResponse:
    inbound = result.message
    return JsonResponse(
        {
            "id": inbound.pk,
            "outcome": inbound.outcome,
            "reference": result.case.reference if result.case else None,
            "reason": inbound.reason or None,
            "reply": result.reply or None,
        },
        status=status,
    )


def _errors_json(exc: ValidationFailed, *, status: int = 400) -> JsonResponse:
    errors: list[dict[str, str | None]] = [
        {"field": field, "message": str(message)}
        for field, messages in exc.details.items()
        for message in messages
    ] or [{"field": None, "message": exc.message}]
    return JsonResponse({"errors": errors}, status=status)


def _email_secret_ok(request: HttpRequest, body: bytes) -> bool:
    secret: str = settings.TOWNHALL_INBOUND_EMAIL_SECRET
    if not secret:
        return False
    if "X-Townhall-Signature" in request.headers:
        return webhook_signature_ok(
            secret,
            body,
            signature=request.headers.get("X-Townhall-Signature", ""),
            timestamp=request.headers.get("X-Townhall-Timestamp", ""),
        )
    # Providers that can only call a URL with credentials in it (SendGrid, Mailgun routes).
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("basic "):
        try:
            _user, _sep, password = base64.b64decode(auth[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        # Bytes: compare_digest raises TypeError on a str with non-ASCII characters.
        return hmac.compare_digest(password.encode(), secret.encode())
    return False


def _too_large(limit: int) -> JsonResponse:
    message = f"The message is larger than the {limit:,} bytes accepted."
    return JsonResponse({"errors": [{"field": "email", "message": message}]}, status=413)


def _body_up_to(request: HttpRequest, limit: int) -> bytes | None:
    """The request body, read here rather than through `request.body` (which stops at
    DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB): None if it is longer than `limit`."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None  # refused before reading a byte
    data = request.read(limit + 1)
    return None if len(data) > limit else data


def _form_field(content_type: str, body: bytes, names: tuple[str, ...]) -> bytes:
    """The first of `names` in a multipart or urlencoded form body, as bytes ("" if none).
    Parsed here because Django's form parser also stops at DATA_UPLOAD_MAX_MEMORY_SIZE."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        fields = parse_qs(body, keep_blank_values=True, max_num_fields=100)
        for name in names:
            if fields.get(name.encode()):
                return fields[name.encode()][0]
        return b""
    head = f"Content-Type: {line_clean(content_type)}\r\n\r\n".encode("utf-8", "replace")
    form = BytesParser(policy=email_policy.HTTP).parsebytes(head + body)
    if not isinstance(form, EmailMessage) or not form.is_multipart():
        return b""
    for part in form.iter_parts():
        if part.get_param("name", header="content-disposition") in names:
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else b""
    return b""


@csrf_exempt
@require_POST
@hooks_rate_limited
def email_inbound_view(request: HttpRequest) -> HttpResponse:
    """A provider posts one raw e-mail: the body itself (message/rfc822), or a form with
    the raw message in a field named `email` (SendGrid) or `body-mime` (Mailgun).

    Accepted up to TOWNHALL_INBOUND_EMAIL_MAX_BYTES (25 MB by default, 413 in this hook's
    JSON format above it); the rest of the site keeps Django's small request limit."""
    limit: int = settings.TOWNHALL_INBOUND_EMAIL_MAX_BYTES
    content_type = request.content_type or ""
    form = content_type.startswith(("multipart/", "application/x-www-form-urlencoded"))
    # Room for the form's own framing (percent-encoding can triple the size).
    body = _body_up_to(request, limit * 3 + 65_536 if form else limit + 65_536)
    if body is None:
        return _too_large(limit)
    if form:
        raw = _form_field(request.META.get("CONTENT_TYPE", ""), body, ("email", "body-mime"))
    else:
        raw = body
    if len(raw) > limit:
        return _too_large(limit)
    if not _email_secret_ok(request, raw):
        return HttpResponse("bad credentials", status=403, content_type="text/plain")
    if not raw.strip():
        return JsonResponse(
            {"errors": [{"field": "email", "message": "The message is empty."}]}, status=400
        )
    # A signed post is taken once within its signature's window (basic auth carries no
    # signature; the message's own Message-ID still makes a second delivery a no-op).
    signature = request.headers.get("X-Townhall-Signature", "")
    if signature and _replayed(request, "email", signature, REPLAY_WINDOW):
        return JsonResponse({"errors": [{"field": None, "message": REPLAYED}]}, status=409)
    try:
        result = intake_email_receive(raw, source="webhook")
    except ValidationFailed as exc:
        return _errors_json(exc, status=413)
    except Exception:
        if signature:
            callback_release("email", signature)
        raise
    return _result_json(result, status=200)


@csrf_exempt
@require_POST
@hooks_rate_limited
def intake_webhook_view(request: HttpRequest, slug: str) -> HttpResponse:
    """A partner system or social-media bridge posts a message as signed JSON."""
    source = WebhookSource.objects.filter(slug=slug, active=True).first()
    if source is None:
        return JsonResponse(
            {"errors": [{"field": None, "message": "Unknown webhook."}]}, status=404
        )
    body = request.body
    if not webhook_signature_ok(
        source.secret,
        body,
        signature=request.headers.get("X-Townhall-Signature", ""),
        timestamp=request.headers.get("X-Townhall-Timestamp", ""),
    ):
        return JsonResponse(
            {
                "errors": [
                    {
                        "field": None,
                        "message": STALE_OR_FORGED,
                    }
                ]
            },
            status=403,
        )
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return JsonResponse(
            {"errors": [{"field": "body", "message": "The body is not JSON."}]}, status=400
        )
    try:
        partner_message_check(payload)
    except ValidationFailed as exc:
        return _errors_json(exc)
    kind, signature = f"intake:{source.pk}", request.headers.get("X-Townhall-Signature", "")
    if _replayed(request, kind, signature, REPLAY_WINDOW):
        return JsonResponse({"errors": [{"field": None, "message": REPLAYED}]}, status=409)
    try:
        result = intake_webhook_receive(source, payload, raw=body.decode("utf-8", "replace"))
    except ValidationFailed as exc:
        return _errors_json(exc)
    except Exception:
        callback_release(kind, signature)
        raise
    status = 422 if result.message.outcome == Outcome.REJECTED else 202
    return _result_json(result, status=status)
