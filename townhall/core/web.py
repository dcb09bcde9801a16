"""Web platform controls shared by every face: the Content-Security-Policy nonce and the
check that a redirect stays on this site (docs/security/platform.md).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.core.files.storage import Storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme

from townhall.core.security import SecurityEventKind, security_event


class NonceCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, with a nonce in the policy of every HTML page.

    django-csp adds the nonce only when a template read it; a page whose templates did not
    (the admin's) would then get a policy without one, and a script added to it later would
    fail in production only. Every HTML page gets one, so the policy is the same everywhere.
    """

    # What a response that is not a page gets (Open311 JSON and XML, feeds, files): it
    # loads nothing and may not be framed. One constant header, not a policy built per
    # response (django-csp builds two, measured at ~0.15 ms of a 0.3 ms minimal request).
    NOT_A_PAGE = "default-src 'none'; frame-ancestors 'none'"

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if response.get("Content-Type", "").startswith("text/html"):
            return super().process_response(request, response)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.NOT_A_PAGE
        return response

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        if response.get("Content-Type", "").startswith("text/html"):
            str(getattr(request, "csp_nonce", ""))  # make the lazy nonce now
        parts: PolicyParts = super().get_policy_parts(request, response, report_only)
        return parts


def csp_nonce(request: HttpRequest) -> dict[str, Any]:
    """Template context: ``csp_nonce`` for inline <script>/<style> (django-htmx reads it too)."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}


def safe_next(request: HttpRequest, candidate: str | None, default: str) -> str:
    """`candidate` if it is a page of this site (same host, our scheme), else `default`.

    Every ``next`` a browser sends goes through here before a redirect: ``//evil.example``,
    ``https://evil.example``, ``/\\evil.example`` and ``javascript:`` are all refused.
    """
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    if candidate:
        security_event(
            SecurityEventKind.OTHER, request=request, detail={"refused": "redirect off site"}
        )
    return default


def stored_file_response(
    stored: Any,
    *,
    content_type: str,
    cache: str,
    download_as: str = "",
) -> HttpResponseBase:
    """Answer with a stored file (a photo, an attachment), never sniffed by the browser.

    `stored` is the model instance's file field, or None: a file that is not there, in the
    database or in storage, is a 404 like a wrong id. `cache` is the Cache-Control value;
    `download_as` (a file name) makes it a download instead of something shown.

    Call it only after the access check. On the file backend the file is streamed (or
    handed to nginx with X-Accel-Redirect when TOWNHALL_MEDIA_ACCEL_REDIRECT is set); on
    object storage the answer is a redirect to a signed URL that ends in a few minutes
    (conf/media.py). Neither the URL nor the storage name is ever logged.
    """
    if stored is None or not stored.name:
        raise Http404
    return storage_file_response(
        stored.storage,
        stored.name,
        content_type=content_type,
        cache=cache,
        download_as=download_as,
    )


def storage_file_response(
    storage: Storage,
    name: str,
    *,
    content_type: str,
    cache: str,
    download_as: str = "",
) -> HttpResponseBase:
    """stored_file_response for a name in `storage` (staged photos have no model row)."""
    disposition = content_disposition_header(bool(download_as), download_as) or "inline"
    if not _is_local(storage):
        # A storage that cannot be reached is a 500 (an outage to see), not a 404.
        if not storage.exists(name):
            raise Http404
        url = _signed_url(storage, name, content_type, disposition, cache)
        response: HttpResponseBase = HttpResponseRedirect(url)
        # The redirect holds a credential for a few minutes: nobody keeps it.
        response["Cache-Control"] = "private, no-store"
    elif settings.TOWNHALL_MEDIA_ACCEL_REDIRECT:
        if not storage.exists(name):
            raise Http404
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.TOWNHALL_MEDIA_ACCEL_REDIRECT + quote(name)
        response["Content-Disposition"] = disposition
        response["Cache-Control"] = cache
    else:
        try:
            handle = storage.open(name, "rb")
        except OSError:
            raise Http404 from None
        if download_as:
            response = FileResponse(
                handle, as_attachment=True, filename=download_as, content_type=content_type
            )
        else:
            response = FileResponse(handle, content_type=content_type)
        response["Cache-Control"] = cache
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _is_local(storage: Storage) -> bool:
    """Whether the storage is files on this machine (it has paths) or object storage."""
    try:
        storage.path("x")
    except NotImplementedError:
        return False
    return True


def _signed_url(
    storage: Storage, name: str, content_type: str, disposition: str, cache: str
) -> str:
    """A URL for `name` signed for a few minutes, telling the object store to answer with
    our content type, disposition and caching (never the type the object was stored with)."""
    backend = storage.__class__.__name__  # default_storage is a lazy proxy: not type()
    if backend == "S3Storage":
        url: str = storage.url(  # type: ignore[call-arg]
            name,
            parameters={
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
                "ResponseCacheControl": cache,
            },
        )
    elif backend == "AzureStorage":
        url = storage.url(  # type: ignore[call-arg]
            name,
            parameters={
                "content_type": content_type,
                "content_disposition": disposition,
                "cache_control": cache,
            },
        )
    else:
        url = storage.url(name)
    return url
