"""Request ids: every request gets one, its log records carry it, its response echoes it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from townhall.conf.log import request_id_var

HEADER = "X-Request-ID"
# An id from the proxy is kept only if it is a short plain token (nothing to forge log
# lines or headers with); anything else is replaced by a fresh one.
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def request_id_for(request: HttpRequest) -> str:
    given = request.headers.get(HEADER, "")
    if SAFE_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """The outermost middleware: sets the id for the whole of the request's handling.

    The id stays set after the middleware returns, so that Django's own "Not Found" and
    "Internal Server Error" lines, written after the middleware chain, carry it too; it is
    cleared when the response is finished (request_finished, townhall.ops.apps).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request)
        request_id_var.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


def request_id_clear(**kwargs: Any) -> None:
    request_id_var.set("-")
