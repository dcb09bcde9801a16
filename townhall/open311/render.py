"""Open311 responses in JSON or XML, and the spec's error list, in the caller's format."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

import orjson
from django.http import HttpRequest, HttpResponse

from townhall.core.ratelimit import RateLimited, rate_limit_hit
from townhall.intake.normalise import xml_clean

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


class Open311Error(Exception):
    """An error answered as GeoReport's `[{code, description}]` with an HTTP status."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        code: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.code = code if code is not None else status
        self.description = description
        self.retry_after = retry_after  # seconds, sent as Retry-After (429)


class Open311Errors(Exception):
    """Several errors answered together (every bad parameter at once); the HTTP status is
    the first one's."""

    def __init__(self, errors: Sequence[Open311Error]) -> None:
        super().__init__("; ".join(e.description for e in errors))
        self.errors = list(errors)


def too_many(exc: RateLimited) -> Open311Error:
    """A rate limit refusal as the spec's error, with the wait in Retry-After."""
    return Open311Error(
        429,
        f"Too many requests: try again in {exc.retry_after} seconds.",
        retry_after=exc.retry_after,
    )


def _xml_value(parent: Element, name: str, value: Any, item_names: Mapping[str, str]) -> None:
    node = SubElement(parent, name)
    if value is None:
        return
    if isinstance(value, bool):
        node.text = "true" if value else "false"
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            _xml_value(node, key, inner, item_names)
    elif isinstance(value, list | tuple):
        child = item_names.get(name, name.rstrip("s"))
        for inner in value:
            _xml_value(node, child, inner, item_names)
    else:
        # Stored text may hold characters XML 1.0 cannot carry at all (escaped or not).
        node.text = xml_clean(str(value))


def to_xml(
    root: str, item: str | None, data: Any, item_names: Mapping[str, str] | None = None
) -> bytes:
    """Return `data` as GeoReport XML: a list becomes `<root><item>…</item>…</root>`."""
    names = dict(item_names or {})
    top = Element(root)
    if item is not None:
        for entry in data:
            _xml_value(top, item, entry, names)
    else:
        for key, value in data.items():
            _xml_value(top, key, value, names)
    body: bytes = tostring(top, encoding="utf-8", xml_declaration=True)
    return body


def respond(
    fmt: str,
    data: Any,
    *,
    root: str,
    item: str | None,
    item_names: Mapping[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Return `data` in the requested format."""
    # orjson writes a page of 1,000 requests in a fraction of the standard library's time;
    # floats are written shortest-round-trip, as json.dumps does.
    body = to_xml(root, item, data, item_names) if fmt == "xml" else orjson.dumps(data)
    return HttpResponse(body, status=status, content_type=FORMATS[fmt])


def error_response(fmt: str, errors: Sequence[Open311Error]) -> HttpResponse:
    """Return the spec's error list; the HTTP status is the first error's."""
    data = [{"code": e.code, "description": e.description} for e in errors]
    response = respond(fmt, data, root="errors", item="error", status=errors[0].status)
    if errors[0].retry_after is not None:
        response["Retry-After"] = str(errors[0].retry_after)
    return response


View = Callable[..., HttpResponse]


def _refuse_nul(request: HttpRequest, path_values: Mapping[str, Any]) -> None:
    # No text column (PostgreSQL's least of all) stores a NUL; say so instead of failing.
    fields = [
        *request.GET.lists(),
        *request.POST.lists(),
        *((k, [v]) for k, v in path_values.items()),
    ]
    for name, values in fields:
        if "\x00" in name or any("\x00" in str(v) for v in values):
            raise Open311Error(
                400, f"{name.replace(chr(0), '') or 'a field'} contains a NUL character."
            )


def open311_view(view: View) -> View:
    """Answer only GET/POST with a known format suffix; turn Open311Errors into error lists."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
        if fmt not in FORMATS:
            return error_response(
                "json", [Open311Error(404, f"Unknown format {fmt!r}: use .json or .xml.")]
            )
        try:
            if request.method != "POST":  # POSTs count with their API key (keys.py)
                rate_limit_hit(request, "open311_read")
            _refuse_nul(request, kwargs)
            return view(request, *args, fmt=fmt, **kwargs)
        except RateLimited as limited:
            return error_response(fmt, [too_many(limited)])
        except Open311Error as exc:
            return error_response(fmt, [exc])
        except Open311Errors as exc:
            return error_response(fmt, exc.errors)

    return wrapper
