"""GET /api/assistant/openapi.json: the OpenAPI 3 description of the assistant's HTTP API."""

from __future__ import annotations

from typing import Any

from townhall.core.openapi import openapi_view_for, packaged_openapi

openapi_view = openapi_view_for("townhall.assistant")


def openapi_document() -> dict[str, Any]:
    """Return the packaged description (townhall/assistant/openapi.json)."""
    return packaged_openapi("townhall.assistant")
