"""Inbound e-mail from the mail providers django-anymail knows, into the intake pipeline.

Each provider posts its own format (Postmark's JSON, Mailgun's and SendGrid's forms, an
Amazon SES notification through SNS, …) to `/hooks/anymail/<provider>/inbound/`. These
routes shadow anymail's own (the hooks app's URLs come first) so that every delivery:

1. counts against the "hooks" rate limit, like every other hook;
2. is read up to TOWNHALL_INBOUND_EMAIL_MAX_BYTES (JSON payloads; form fields other than
   files keep Django's DATA_UPLOAD_MAX_MEMORY_SIZE), 413 above it;
3. is verified by anymail: the ANYMAIL webhook secret (basic auth; required here, the
   routes are closed without it) and the provider's own signature where it has one
   (Mailgun's, SES's through SNS…). A forgery gets 403 and a security event;
   a post anymail cannot read (not JSON, fields missing) gets 400, not a 500;
4. is taken once: the provider's event id (or a digest of the message) is remembered in
   hooks.CallbackSeen for TOWNHALL_INBOUND_EMAIL_REPLAY_SECONDS; a replay gets 409, and
   so does a post whose provider-signed time is older than that (it is no longer remembered);
5. goes to `intake_email_receive` as the raw MIME anymail rebuilt, so the same careful
   parsing, threading and answers apply as for `/hooks/email/inbound/` and IMAP.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from anymail.exceptions import (
    AnymailAPIError,
    AnymailConfigurationError,
    AnymailWebhookValidationFailure,
)
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from townhall.core import clock
from townhall.core.errors import ValidationFailed
from townhall.core.security import SecurityEventKind, security_event
from townhall.hooks.replay import callback_claim, callback_release
from townhall.hooks.views import (
    REPLAYED,
    _body_up_to,
    _errors_json,
    _result_json,
    _too_large,
    hooks_rate_limited,
)
from townhall.intake.channels import intake_email_receive
from townhall.intake.services import IntakeResult

logger = logging.getLogger(__name__)

# Provider (as in the URL) -> anymail's inbound view for it.
INBOUND_VIEWS = {
    "amazon_ses": "anymail.webhooks.amazon_ses.AmazonSESInboundWebhookView",
    "brevo": "anymail.webhooks.brevo.BrevoInboundWebhookView",
    "mailersend": "anymail.webhooks.mailersend.MailerSendInboundWebhookView",
    "mailgun": "anymail.webhooks.mailgun.MailgunInboundWebhookView",
    "mailjet": "anymail.webhooks.mailjet.MailjetInboundWebhookView",
    "mailtrap": "anymail.webhooks.mailtrap.MailtrapInboundWebhookView",
    "postal": "anymail.webhooks.postal.PostalInboundWebhookView",
    "postmark": "anymail.webhooks.postmark.PostmarkInboundWebhookView",
    "resend": "anymail.webhooks.resend.ResendInboundWebhookView",
    "sendgrid": "anymail.webhooks.sendgrid.SendGridInboundWebhookView",
    "sparkpost": "anymail.webhooks.sparkpost.SparkPostInboundWebhookView",
}
_views: dict[str, Callable[..., HttpResponse]] = {}


class Replayed(Exception):
    """A delivery already taken came again."""


@dataclass
class _Delivery:
    """The request being handled, as the signal receiver sees it."""

    provider: str
    results: list[IntakeResult] = field(default_factory=list)
    in_intake: bool = False  # an error from here on is ours, not the provider's post


_delivery: ContextVar[_Delivery | None] = ContextVar("anymail_inbound_delivery", default=None)


def _error(status: int, message: str, field_name: str | None = None) -> JsonResponse:
    return JsonResponse({"errors": [{"field": field_name, "message": message}]}, status=status)


def _anymail_view(provider: str) -> Callable[..., HttpResponse]:
    if provider not in _views:
        _views[provider] = import_string(INBOUND_VIEWS[provider]).as_view()
    return _views[provider]


@csrf_exempt
@require_POST
@hooks_rate_limited
def provider_inbound_view(request: HttpRequest, provider: str) -> HttpResponse:
    """One provider's inbound e-mail webhook, through anymail (see the module docstring)."""
    if provider not in INBOUND_VIEWS:
        return _error(404, "Unknown mail provider.")
    if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        # Anymail would take anyone's posts (with a warning): closed instead.
        return _error(403, "Inbound e-mail from providers is not set up (no webhook secret).")
    limit: int = settings.TOWNHALL_INBOUND_EMAIL_MAX_BYTES
    form = (request.content_type or "").startswith(("multipart/", "application/x-www-form"))
    body = _body_up_to(request, limit * 3 + 65_536 if form else limit + 65_536)
    if body is None:
        return _too_large(limit)
    # Anymail reads request.body (or the form parsed from it); the body read above stands
    # in for it, so Django's smaller DATA_UPLOAD_MAX_MEMORY_SIZE check is not applied twice.
    request._body = body
    delivery = _Delivery(provider=provider)
    token = _delivery.set(delivery)
    try:
        response = _anymail_view(provider)(request)
    except AnymailWebhookValidationFailure:
        security_event(
            SecurityEventKind.SIGNATURE_REFUSED,
            request=request,
            subject=f"anymail-inbound:{provider}",
            detail={"why": "signature"},
        )
        return HttpResponse("bad credentials", status=403, content_type="text/plain")
    except Replayed:
        security_event(
            SecurityEventKind.SIGNATURE_REFUSED,
            request=request,
            subject=f"anymail-inbound:{provider}",
            detail={"why": "replay"},
        )
        return _error(409, REPLAYED)
    except RequestDataTooBig:
        return _too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    except ValidationFailed as exc:
        return _errors_json(exc, status=413)
    except AnymailConfigurationError as exc:
        # The provider posts something this route does not take (a tracking event, a
        # Mailgun store() route) or its settings are missing: the operator must look.
        logger.warning("anymail inbound %s: %s", provider, exc)
        return _error(400, "This provider's webhook is not set up for inbound e-mail here.")
    except AnymailAPIError as exc:
        if delivery.in_intake:
            raise
        if type(exc).__name__.startswith("AnymailBoto"):  # needs boto3 to import the class
            # Fetching the message from the provider's store (Amazon SES: S3) failed: 502,
            # so the provider delivers it again rather than dropping it.
            logger.warning("anymail inbound %s: could not fetch the message: %r", provider, exc)
            return _error(502, "The message could not be fetched from the provider; try again.")
        # Anymail could not read the post (an SNS body that is not JSON, an unknown type).
        logger.warning("anymail inbound %s: unreadable post: %r", provider, exc)
        return _error(400, "This post is not an inbound e-mail in this provider's format.")
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        if delivery.in_intake:
            raise
        # Anymail could not read the post (not JSON, fields missing or of the wrong kind):
        # the sender holds the secret, but the post is not a message in that provider's form.
        logger.warning("anymail inbound %s: unreadable post: %r", provider, exc)
        return _error(400, "This post is not an inbound e-mail in this provider's format.")
    finally:
        _delivery.reset(token)
    if delivery.results:
        return _result_json(delivery.results[-1], status=200)
    return response


def _replay_key(event: Any, raw: bytes) -> str:
    """The provider's id for this delivery if it gives one, else the message's digest."""
    event_id = getattr(event, "event_id", None)
    return str(event_id) if event_id else hashlib.sha256(raw).hexdigest()


def email_inbound_received(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    """anymail's `inbound` signal: one message, verified by anymail, into intake."""
    delivery = _delivery.get()
    if delivery is None:
        # Only the routes above may feed intake (rate limit, replay protection).
        logger.warning("anymail inbound from %s outside /hooks/anymail/…: ignored", esp_name)
        return
    raw = event.message.as_bytes()
    kind, key = f"mail:{delivery.provider}", _replay_key(event, raw)
    window = settings.TOWNHALL_INBOUND_EMAIL_REPLAY_SECONDS
    # A signed time (Mailgun's, SES's through SNS) older than the window: the delivery is
    # no longer remembered, so a captured post sent again then would be taken.
    signed_at = getattr(event, "timestamp", None)
    if signed_at is not None and (clock.now() - signed_at).total_seconds() > window:
        raise Replayed(kind)
    if not callback_claim(kind, key, window_seconds=window):
        raise Replayed(kind)
    delivery.in_intake = True
    try:
        result = intake_email_receive(raw, source=delivery.provider)
    except Exception:
        callback_release(kind, key)
        raise
    delivery.in_intake = False
    delivery.results.append(result)
