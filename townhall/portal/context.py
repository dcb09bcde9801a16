"""Template context for every portal page: the council's name, logo and colours."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from townhall.catalog.selectors import jurisdiction_list


def brand(request: HttpRequest) -> dict[str, Any]:
    configured: dict[str, str] = settings.TOWNHALL_BRAND
    name = configured.get("name") or ""
    if not name:
        jurisdictions = jurisdiction_list()
        name = jurisdictions[0].name if len(jurisdictions) == 1 else "Townhall"
    return {"brand": {**configured, "name": name}}
