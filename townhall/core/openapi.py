"""OpenAPI descriptions packaged as `openapi.json` beside an app, served at a stable URL."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@functools.cache
def packaged_openapi(package: str) -> dict[str, Any]:
    """Return the description packaged as `openapi.json` in `package` (read once per process)."""
    text = resources.files(package).joinpath("openapi.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def openapi_view_for(package: str) -> Callable[[HttpRequest], JsonResponse]:
    """A GET view answering `package`'s description, with this site's public URL as server."""

    @require_GET
    def openapi_view(request: HttpRequest) -> JsonResponse:
        servers = [{"url": settings.TOWNHALL_PUBLIC_URL}]
        return JsonResponse({**packaged_openapi(package), "servers": servers})

    return openapi_view
