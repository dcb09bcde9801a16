"""A GeoReport v2 (Open311) client: what we say to another body's server, and what we accept back.

Each call returns parsed, checked data or raises :class:`RemoteError`. ``retryable`` tells
the caller whether the same call may succeed later (a network failure, a timeout, HTTP 5xx,
408 or 429, an answer that is not the JSON GeoReport promises) or never will as it stands
(HTTP 4xx: a bad key, an unknown service code, a refused field). Nothing here writes to the
database: `sending` and `syncing` decide what a failure means for the case.

The transport is notify's pooled HTTP client (``http_transport``; keep-alive, no redirects,
answers capped in size); tests pass their own. The API key travels in the form body for a
POST, as GeoReport v2 says, and never in a URL we log.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from townhall.notify.channels.base import ChannelError, HttpResponse, Transport
from townhall.notify.channels.http import http_transport

__all__ = ["Open311Client", "PostAnswer", "RemoteError"]

USER_AGENT = "Townhall-forwarding/1"


class RemoteError(Exception):
    """The remote did not do what we asked; ``retryable`` says whether asking again may help."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status

    def __str__(self) -> str:
        return f"{self.message} (HTTP {self.status})" if self.status else self.message


@dataclass(frozen=True)
class PostAnswer:
    """What a POST requests.json gave back: the remote id, or a token to ask for it later."""

    remote_id: str
    token: str
    notice: str


def _retryable_status(status: int) -> bool:
    return status >= 500 or status in (408, 425, 429)


def _error_text(data: object) -> str:
    # GeoReport errors: [{"code": 400, "description": "..."}]
    if isinstance(data, list) and data and isinstance(data[0], Mapping):
        return str(data[0].get("description") or data[0].get("code") or "")[:300]
    return ""


class Open311Client:
    """One remote GeoReport v2 server: its base URL (ending in "/"), jurisdiction and key."""

    def __init__(
        self,
        endpoint: str,
        *,
        api_key: str = "",
        jurisdiction_id: str = "",
        timeout: float = 10.0,
        transport: Transport | None = None,
    ) -> None:
        self.endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
        self.api_key = api_key
        self.jurisdiction_id = jurisdiction_id
        self.transport = transport or http_transport(timeout)
        #: How long the last call took, in milliseconds (for the sync record).
        self.last_elapsed_ms = 0
        #: Items of the last list answer that were not records, and were left out.
        self.last_skipped = 0

    # -- plumbing ---------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, params: Mapping[str, str] | None = None, form: bytes = b""
    ) -> Any:
        query = dict(params or {})
        if self.jurisdiction_id:
            query.setdefault("jurisdiction_id", self.jurisdiction_id)
        url = self.endpoint + path + ("?" + urlencode(query) if query else "")
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if form:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            answer: HttpResponse = self.transport(method, url, headers, form)
        except ChannelError as exc:
            raise RemoteError(
                f"could not reach the server: {exc.code or exc.message}", retryable=exc.retryable
            ) from exc
        finally:
            self.last_elapsed_ms = int((time.perf_counter() - started) * 1000)
        try:
            data = json.loads(answer.body) if answer.body else None
        except (ValueError, UnicodeDecodeError):
            data = None
            if 200 <= answer.status < 300:
                raise RemoteError(
                    "the answer is not JSON", retryable=True, status=answer.status
                ) from None
        if not 200 <= answer.status < 300:
            text = _error_text(data) or "the server refused the request"
            raise RemoteError(
                text, retryable=_retryable_status(answer.status), status=answer.status
            )
        return data

    def _records(self, data: Any, what: str, *, skip_bad: bool = False) -> list[dict[str, Any]]:
        """The records of a list answer. With `skip_bad`, items that are not objects are
        left out and counted in ``last_skipped`` (one bad record does not hide the rest);
        without, any such item fails the whole answer."""
        self.last_skipped = 0
        if isinstance(data, Mapping):  # some servers wrap the list: {"service_requests": [...]}
            inner = next((v for v in data.values() if isinstance(v, list)), None)
            data = inner if inner is not None else data
        if not isinstance(data, list):
            raise RemoteError(f"the {what} answer is not a list of records", retryable=True)
        records = [dict(item) for item in data if isinstance(item, Mapping)]
        if len(records) != len(data):
            if not skip_bad:
                raise RemoteError(f"the {what} answer is not a list of records", retryable=True)
            self.last_skipped = len(data) - len(records)
        return records

    # -- GeoReport v2 -----------------------------------------------------------------------

    def post_request(self, fields: Mapping[str, str]) -> PostAnswer:
        """POST requests.json with `fields` (already mapped: service_code, lat, long,
        description, attribute[code], email, ...); the key is added here."""
        form = dict(fields)
        if self.api_key:
            form["api_key"] = self.api_key
        if self.jurisdiction_id:
            form.setdefault("jurisdiction_id", self.jurisdiction_id)
        # A 2xx answer we cannot read most likely means the remote made the request:
        # sending it again would make a second one there, so it is not retried (staff check
        # with the body and resend by hand). Network failures and 5xx are retried.
        try:
            data = self._call("POST", "requests.json", form=urlencode(form).encode())
            records = self._records(data, "POST")
        except RemoteError as exc:
            unreadable = exc.status is None if exc.__cause__ is None else False
            if exc.status is not None and 200 <= exc.status < 300:
                unreadable = True
            if not unreadable:
                raise
            raise RemoteError(
                f"{exc.message}; the request may have been made there",
                retryable=False,
                status=exc.status,
            ) from exc
        first = records[0] if records else {}
        remote_id = str(first.get("service_request_id") or "").strip()
        token = str(first.get("token") or "").strip()
        if not remote_id and not token:
            raise RemoteError(
                "the POST answer has neither an id nor a token; the request may have been "
                "made there",
                retryable=False,
            )
        return PostAnswer(remote_id[:200], token[:200], str(first.get("service_notice") or ""))

    def get_token(self, token: str) -> str:
        """The service_request_id a token became; "" while the remote has not made it yet."""
        records = self._records(self._call("GET", f"tokens/{quote(token, safe='')}.json"), "token")
        return str(records[0].get("service_request_id") or "")[:200] if records else ""

    def get_requests(self, remote_ids: Sequence[str]) -> list[dict[str, Any]]:
        """GET requests.json for these ids (one call; GeoReport takes a comma-separated list)."""
        if not remote_ids:
            return []
        return self._records(
            self._call("GET", "requests.json", {"service_request_id": ",".join(remote_ids)}),
            "requests",
            skip_bad=True,
        )

    def get_updates(self, start: datetime, end: datetime | None = None) -> list[dict[str, Any]]:
        """mySociety's GET servicerequestupdates.json between `start` and `end` (ISO 8601)."""
        params = {"start_date": start.isoformat()}
        if end is not None:
            params["end_date"] = end.isoformat()
        if self.api_key:
            params["api_key"] = self.api_key
        return self._records(
            self._call("GET", "servicerequestupdates.json", params), "updates", skip_bad=True
        )

    def get_services(self) -> list[dict[str, Any]]:
        """GET services.json: the remote's service list (items that are not objects are
        left out, counted in ``last_skipped``)."""
        return self._records(self._call("GET", "services.json"), "services", skip_bad=True)

    def get_definition(self, service_code: str) -> dict[str, Any]:
        """GET services/<code>.json: the service's attribute definitions."""
        # The code comes from the remote: quoted whole, so "../x" or "a?b" stays one segment.
        data = self._call("GET", f"services/{quote(service_code, safe='')}.json")
        if not isinstance(data, Mapping):
            raise RemoteError("the service definition is not an object", retryable=True)
        return dict(data)
