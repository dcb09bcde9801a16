"""Content-Security-Policy (issue 15, docs/security/platform.md)."""

from __future__ import annotations

from urllib.parse import urlsplit

import environ
from csp.constants import NONCE, NONE, SELF


def url_origin(url: str) -> str | None:
    """The CSP source for `url` (a ``{s}`` subdomain becomes ``*``); None for a local path."""
    parts = urlsplit(url.replace("{s}", "*"))
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def csp_directives(
    env: environ.Env, *, image_urls: list[str], form_urls: list[str]
) -> dict[str, object]:
    """Scripts and styles from this site or carrying the page's nonce; images also from the
    hosts of `image_urls` (the map's tile server, the logo) and CSP_EXTRA_IMG_SRC; forms
    post to this site and the hosts of `form_urls` (the single sign-on page)."""
    images = [SELF, "data:", *env.list("CSP_EXTRA_IMG_SRC", default=[])]
    for url in image_urls:
        if (origin := url_origin(url)) and origin not in images:
            images.append(origin)
    forms = [SELF]
    for url in form_urls:
        if origin := url_origin(url):
            forms.append(origin)  # the sign-in redirect after the admin's form
    directives: dict[str, object] = {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": images,
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": forms,
        "frame-ancestors": [NONE],
    }
    if env.str("CSP_REPORT_URI", default=""):
        directives["report-uri"] = [env.str("CSP_REPORT_URI")]
    return directives
