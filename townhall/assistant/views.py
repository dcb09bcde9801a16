"""The assistant's HTTP API: the widget's fallback when WebSockets are blocked, and its
thumbs up/down. JSON in, JSON out; every problem is a JSON error, never a 500.

`POST /api/assistant/messages`  {"conversation": key or null, "text": ..., "language"?,
"photos"?: [staged-photo tokens]} -> the Reply (messages with quick replies and sources).
`POST /api/assistant/ratings`   {"conversation": key, "turn": id, "helpful": bool} -> 204.

The conversation key is the only authority these endpoints act on, so they are exempt
from CSRF for anonymous callers (another site cannot know a key). A signed-in resident's
session cookie does add authority (their own requests are listed), so then the CSRF
check applies as for any form: another site cannot make the browser ask on their behalf.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from townhall.assistant.errors import ConversationNotFound
from townhall.assistant.services import message_receive, turn_rate
from townhall.core.ratelimit import RateLimited, rate_limit_hit, rate_limited, too_many
from townhall.people.selectors import citizen_id_for_user

# Far above a 2,000-character message with ten photo tokens; anything bigger is refused
# before it is parsed.
BODY_MAX = 32 * 1024
PHOTOS_MAX = 10
TOKEN_MAX = 512


def _error(status: int, message: str, *, field: str | None = None) -> JsonResponse:
    return JsonResponse({"errors": [{"field": field, "message": message}]}, status=status)


def _too_many(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    return _error(429, f"Too many messages: try again in {exc.retry_after} seconds.")


class BadInput(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _json(request: HttpRequest) -> dict[str, Any]:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > BODY_MAX:  # refused before it is read
        raise BadInput("The request is too large.")
    try:
        body = request.body
    except RequestDataTooBig:  # past DATA_UPLOAD_MAX_MEMORY_SIZE: Django's HTML 400 otherwise
        raise BadInput("The request is too large.") from None
    if len(body) > BODY_MAX:
        raise BadInput("The request is too large.")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadInput("The body must be a JSON object.") from None
    if not isinstance(data, dict):
        raise BadInput("The body must be a JSON object.")
    return data


def _key(data: dict[str, Any], *, required: bool) -> str | None:
    key = data.get("conversation")
    if key is None and not required:
        return None
    if not isinstance(key, str) or not key:
        raise BadInput("conversation must be a conversation key.", "conversation")
    return key


def _signed_in(request: HttpRequest) -> int | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return citizen_id_for_user(user_id=user.pk)


def _no_view(request: HttpRequest) -> HttpResponse:  # what the CSRF check is asked about
    return HttpResponse(status=204)


def _csrf_refusal(request: HttpRequest) -> HttpResponse | None:
    """The CSRF check, when a session gives the request more than its key's authority."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return None
    middleware = CsrfViewMiddleware(lambda r: HttpResponse())
    refused = middleware.process_view(request, _no_view, (), {})
    if refused is not None:
        return _error(403, "The CSRF check failed: reload the page.")
    return None


@csrf_exempt
@require_POST
@rate_limited("assistant", respond=_too_many, methods=None)
def messages_view(request: HttpRequest) -> HttpResponse:
    refused = _csrf_refusal(request)
    if refused is not None:
        return refused
    try:
        data = _json(request)
        key = _key(data, required=False)
        text = data.get("text", "")
        if not isinstance(text, str):
            raise BadInput("text must be a string.", "text")
        language = data.get("language") or ""
        if not isinstance(language, str) or len(language) > 16:
            raise BadInput("language must be a language code like en or es.", "language")
        photos = data.get("photos") or []
        if (
            not isinstance(photos, list)
            or len(photos) > PHOTOS_MAX
            or not all(isinstance(p, str) and 0 < len(p) <= TOKEN_MAX for p in photos)
        ):
            raise BadInput(f"photos must be a list of at most {PHOTOS_MAX} tokens.", "photos")
    except BadInput as exc:
        return _error(400, exc.message, field=exc.field)
    if key is not None:
        try:
            # Per conversation too (`assistant.target`): one chat cannot flood from many
            # addresses.
            rate_limit_hit(None, "assistant", targets=[key])
        except RateLimited as exc:
            return too_many(_too_many(request, exc), exc)
    try:
        reply = message_receive(
            conversation=key,
            text=text,
            language=language or getattr(request, "LANGUAGE_CODE", "") or "en",
            citizen_id=_signed_in(request),
            channel="web",
            photos=photos,
        )
    except ConversationNotFound:
        return _error(404, "No such conversation: start a new one.", field="conversation")
    response = JsonResponse(reply.as_json())
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@require_POST
@rate_limited("assistant_rating", respond=_too_many, methods=None)
def ratings_view(request: HttpRequest) -> HttpResponse:
    refused = _csrf_refusal(request)
    if refused is not None:
        return refused
    try:
        data = _json(request)
        key = _key(data, required=True)
        turn = data.get("turn")
        helpful = data.get("helpful")
        if not isinstance(turn, int) or isinstance(turn, bool) or turn <= 0:
            raise BadInput("turn must be the id of an answer.", "turn")
        if not isinstance(helpful, bool):
            raise BadInput("helpful must be true or false.", "helpful")
    except BadInput as exc:
        return _error(400, exc.message, field=exc.field)
    assert key is not None
    try:
        turn_rate(conversation=key, turn_id=turn, helpful=helpful)
    except ConversationNotFound:
        return _error(404, "No such answer in this conversation.", field="turn")
    return HttpResponse(status=204)
