"""GET discovery: where this GeoReport v2 endpoint lives and what it speaks."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from townhall.open311.render import FORMATS, open311_view, respond

CHANGESET = "2026-11-23T00:00:00Z"


@require_GET
@open311_view
def discovery_view(request: HttpRequest, *, fmt: str) -> HttpResponse:
    base = settings.TOWNHALL_PUBLIC_URL.rstrip("/") + "/open311/v2/"
    data = {
        "changeset": CHANGESET,
        "contact": settings.DEFAULT_FROM_EMAIL,
        "key_service": settings.TOWNHALL_PUBLIC_URL.rstrip("/") + "/admin/",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": CHANGESET,
                "type": "production",
                "formats": [value.split(";")[0] for value in FORMATS.values()],
            }
        ],
    }
    return respond(
        fmt,
        data,
        root="discovery",
        item=None,
        item_names={"endpoints": "endpoint", "formats": "format"},
    )
