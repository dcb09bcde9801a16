"""Rate limits on the portal's pages: over a limit, a friendly page with 429 and
Retry-After (townhall/core/ratelimit.py counts; settings.TOWNHALL_RATE_LIMITS names)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from townhall.core.ratelimit import RateLimited, View, posted_email, rate_limited


def too_many_page(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    minutes = max(1, math.ceil(exc.retry_after / 60))
    return render(request, "portal/rate_limited.html", {"minutes": minutes}, status=429)


def portal_rate_limited(
    name: str,
    *,
    methods: Sequence[str] | None = ("POST",),
    targets: Callable[[HttpRequest], Iterable[str]] | None = None,
) -> Callable[[View], View]:
    """Count the view's requests against the limit `name` (see core.ratelimit)."""
    return rate_limited(name, respond=too_many_page, methods=methods, targets=targets)


__all__ = ["portal_rate_limited", "posted_email", "too_many_page"]
