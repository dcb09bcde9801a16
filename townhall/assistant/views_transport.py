"""The chat widget's HTTP side: its settings and CSRF token, photo upload, and the events
it polls when WebSockets are blocked (the messages themselves go to the dialogue API,
`POST /api/assistant/messages`, which answers with the same JSON as the socket).

The conversation key is a bearer secret: the events endpoint takes it in the
``X-Conversation`` header, never in the URL, so it stays out of access logs, proxies'
caches, browser history and Referer headers (the key gives the whole transcript, which
may hold an address or a phone number).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import get_token
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from townhall.assistant.selectors_transport import conversation_events
from townhall.assistant.services_survey import survey_offer_by_key
from townhall.cases.photos import InvalidPhoto, photo_clean
from townhall.core.ratelimit import RateLimited, client_address, rate_limit_hit, too_many
from townhall.intake.staging import StagedPhotoGone, owner_key, photo_stage

log = logging.getLogger(__name__)


def _error(message: str, *, status: int, code: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _limited(request: HttpRequest, name: str) -> JsonResponse | None:
    try:
        rate_limit_hit(request, name)
    except RateLimited as exc:
        response = _error(
            _("Too many requests. Please wait a moment."), status=429, code="rate_limited"
        )
        return too_many(response, exc)  # type: ignore[return-value]
    return None


@require_GET
@never_cache
def transport_view(request: HttpRequest) -> JsonResponse:
    """What the widget needs before it falls back to HTTP or uploads a photo: the CSRF
    token for its POSTs (this response sets the cookie too) and the transport's limits."""
    limits = settings.TOWNHALL_ASSISTANT_TRANSPORT
    return JsonResponse(
        {
            "csrf_token": get_token(request),
            "poll_seconds": limits["POLL_SECONDS"],
            "max_text": limits["MAX_TEXT"],
            "max_photos": limits["MAX_PHOTOS"],
            "max_photo_bytes": settings.TOWNHALL_PHOTO_MAX_BYTES,
        }
    )


@require_GET
@never_cache
def events_view(request: HttpRequest) -> JsonResponse:
    """What an agent (or the system) said in the conversation after turn `after`; with
    ``history=1`` every turn, to redraw the chat on the next page."""
    if (refused := _limited(request, "assistant_events")) is not None:
        return refused
    key = request.headers.get("X-Conversation", "").strip()
    try:
        after = int(request.GET.get("after") or 0)
    except ValueError:
        return _error(_("after must be a turn number."), status=400, code="bad_after")
    if not key:
        return _error(_("Send the conversation in X-Conversation."), status=400, code="no_key")
    survey_offer_by_key(key=key)  # a resolved case's survey, asked once (services_survey)
    found = conversation_events(key=key, after=after, history=request.GET.get("history") == "1")
    if found is None:
        return _error(
            _("That conversation has ended. Start a new one."),
            status=404,
            code="unknown_conversation",
        )
    status, messages = found
    return JsonResponse({"conversation": key, "status": status, "messages": messages})


@require_POST
def photo_upload_view(request: HttpRequest) -> JsonResponse:
    """One photo from the widget (multipart field ``photo``): checked, re-encoded without
    EXIF (cases.photos) and staged (intake.staging); the token goes in the next message's
    ``photos``. The staging quota counts per client address (the widget has no form)."""
    if (refused := _limited(request, "assistant_photo")) is not None:
        return refused
    upload = request.FILES.get("photo")
    if upload is None:
        return _error(_("Choose a photo to send."), status=400, code="no_photo")
    if upload.size is not None and upload.size > settings.TOWNHALL_PHOTO_MAX_BYTES:
        return _error(
            _("%(name)s is larger than %(mb)s MB.")
            % {"name": upload.name, "mb": settings.TOWNHALL_PHOTO_MAX_BYTES // 2**20},
            status=413,
            code="too_big",
        )
    name = (upload.name or "")[:100]
    try:
        photo = photo_clean(upload.read(), filename=name)
    except InvalidPhoto as exc:
        return _error(exc.message, status=400, code="invalid_photo")
    try:
        token = photo_stage(photo, filename=name, owner=owner_key(client_address(request)))
    except (StagedPhotoGone, OSError):
        log.warning("a chat photo could not be staged")
        return _error(
            _("We could not keep your photo just now. Please try again later."),
            status=503,
            code="unavailable",
        )
    return JsonResponse(
        {"photo": token, "name": name, "width": photo.width, "height": photo.height},
        status=201,
    )
