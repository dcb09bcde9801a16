"""`requests.{format}` answers GET (search) and POST (create) at one address."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from townhall.core.routers import reading_from_replica
from townhall.open311.ops.request_create import request_create_view
from townhall.open311.ops.request_list import request_list_view


@csrf_exempt  # API clients authenticate with api_key, not a session cookie
def requests_view(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return request_create_view(request, fmt=fmt)
    with reading_from_replica():  # a search reads figures only (core/routers.py)
        return request_list_view(request, fmt=fmt)
