"""Answers a resident gives to eligibility and permit questions, kept between pages.

Income, savings, benefits and health never travel in a URL (where browser history, proxies,
access logs and the Referer header would keep them). The pages post them; they are kept
here, in the cache under a random key held in the session, for
``TOWNHALL_ANSWERS_KEEP_MINUTES`` after the last answer, then they are gone by themselves.
The session (a database row) holds only the random key. "Forget my answers" removes them
at once. A cache that fails loses the answers (the form comes back empty), never the page.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

log = logging.getLogger(__name__)
SESSION_KEY = "townhall_answers"


def _cache_key(request: HttpRequest, kind: str, ident: str, *, create: bool) -> str | None:
    token = request.session.get(SESSION_KEY)
    if not token:
        if not create:
            return None
        token = secrets.token_urlsafe(18)
        request.session[SESSION_KEY] = token
    return f"townhall:answers:{token}:{kind}:{ident}"


def answers_get(request: HttpRequest, kind: str, ident: str) -> Any:
    """The answers kept for this browser's `kind`/`ident` (a programme, a permit tree), or None."""
    key = _cache_key(request, kind, ident, create=False)
    if key is None:
        return None
    try:
        return cache.get(key)
    except Exception:  # a cache outage costs the resident their answers, not the page
        log.warning("answers cache unavailable", exc_info=True)
        return None


def answers_keep(request: HttpRequest, kind: str, ident: str, answers: Any) -> None:
    """Keep `answers` for the next pages, for the configured minutes from now."""
    key = _cache_key(request, kind, ident, create=True)
    assert key is not None
    try:
        cache.set(key, answers, timeout=settings.TOWNHALL_ANSWERS_KEEP_MINUTES * 60)
    except Exception:
        log.warning("answers cache unavailable", exc_info=True)


def answers_forget(request: HttpRequest, kind: str, ident: str) -> None:
    """Remove the answers now ("Forget my answers", "Start again")."""
    key = _cache_key(request, kind, ident, create=False)
    if key is None:
        return
    try:
        cache.delete(key)
    except Exception:
        log.warning("answers cache unavailable", exc_info=True)
