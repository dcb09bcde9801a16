"""GET openapi.json: the OpenAPI 3 description of the JSON form, at a stable URL."""

from __future__ import annotations

from townhall.core.openapi import openapi_view_for

openapi_view = openapi_view_for("townhall.open311")
