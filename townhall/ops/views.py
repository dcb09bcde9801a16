"""Readiness (/readyz) and Prometheus metrics (/metrics): for the orchestrator and the scraper.

Neither page says anything about a resident: readiness names checks and fixed words, metrics
carry counts labelled by URL names, statuses and channels.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from townhall.ops.metrics import exposition
from townhall.ops.readiness import readiness


@never_cache
@require_safe
def readyz_view(request: HttpRequest) -> JsonResponse:
    ready, checks = readiness()
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


def is_loopback(request: HttpRequest) -> bool:
    """From this machine, not through a proxy (a proxy here would make everyone local)."""
    if "x-forwarded-for" in request.headers or "forwarded" in request.headers:
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Loopback clients outside production, or anyone with TOWNHALL_METRICS_TOKEN as a
    bearer token.

    Without a token configured the page does not exist for anyone else (404); with one, a
    missing or wrong token is refused (403).
    """
    # In production a proxy on the same machine (nginx forwarding without X-Forwarded-For)
    # would make every visitor "loopback": there only the token opens the page.
    if settings.PRODUCTION or not is_loopback(request):
        expected: str = settings.TOWNHALL_METRICS_TOKEN
        if not expected:
            raise Http404
        if not hmac.compare_digest(bearer_token(request).encode(), expected.encode()):
            return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
