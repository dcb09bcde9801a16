"""GET /api/assistant/openapi.json: the OpenAPI 3 description of the assistant's HTTP API."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@functools.cache
def openapi_document() -> dict[str, Any]:
    """Return the packaged description (townhall/assistant/openapi.json)."""
    text = resources.files("townhall.assistant").joinpath("openapi.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@require_GET
def openapi_view(request: HttpRequest) -> JsonResponse:
    document = {**openapi_document(), "servers": [{"url": settings.TOWNHALL_PUBLIC_URL}]}
    return JsonResponse(document)
