"""Inbound e-mail: the MIME walk, from a parsed message to its body text and attachments
(nesting, alternatives, broken boundaries, forwards, winmail.dat kept as a file)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from io import BytesIO

from townhall.intake.email_decode import (
    _MAX_HEADER_CHARS,
    _clean,
    _content_type,
    _decode_bytes,
    _decode_words,
    _header_text,
    _header_texts,
    _params,
    _raw_headers,
    _tidy,
)
from townhall.intake.email_html import html_to_text

_MAX_DEPTH = 20  # MIME nesting
_MAX_PARTS = 500  # MIME parts walked
_MAX_FILENAME_CHARS = 200


@dataclass(frozen=True)
class EmailAttachment:
    filename: str  # sanitised: no path, no control characters; generated when none was given
    content_type: str  # lower-case "type/subtype" as declared
    data: bytes  # decoded content
    inline: bool  # shown in the body (Content-Disposition: inline, or a cid: resource)
    content_id: str  # without <>, "" if none


# --------------------------------------------------------------------------------------
# MIME walk


_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "application/pdf": ".pdf",
    "application/ms-tnef": ".dat",
    "message/rfc822": ".eml",
    "message/delivery-status": ".txt",
    "message/disposition-notification": ".txt",
    "text/rfc822-headers": ".txt",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
}
_FILENAME_BAD_RE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    name = _clean(_decode_words(name)) if "=?" in name else _clean(name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _FILENAME_BAD_RE.sub("", name).strip().strip(".").strip()
    if len(name) > _MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: _MAX_FILENAME_CHARS - len(ext) - 1] + "." + ext
        else:
            name = name[:_MAX_FILENAME_CHARS]
    return name


def _content_id(part: Message) -> str:
    raws = _raw_headers(part, "Content-ID")
    return _clean(raws[0]).strip().strip("<>").strip()[:_MAX_HEADER_CHARS] if raws else ""


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    try:
        payload = part.get_payload()
    except Exception:
        return b""
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def _flatten(msg: Message) -> bytes:
    buffer = BytesIO()
    try:
        BytesGenerator(buffer, mangle_from_=False, policy=policy.compat32).flatten(msg)
    except Exception:
        return b""
    return buffer.getvalue()


def _message_part_bytes(part: Message) -> bytes:
    """The content of a ``message/*`` part (without the part's own headers)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        inner = payload[0] if payload else None
        if _content_type(part) in ("message/rfc822", "message/global") and isinstance(
            inner, Message
        ):
            return _flatten(inner)
        flat = _flatten(part)
        return flat.split(b"\n\n", 1)[1] if b"\n\n" in flat else b""
    return _payload_bytes(part)


def _children(part: Message) -> list[Message]:
    try:
        payload = part.get_payload()
    except Exception:
        return []
    if isinstance(payload, list):
        return [child for child in payload if isinstance(child, Message)]
    return []


@dataclass
class _Walk:
    attachments: list[EmailAttachment] = field(default_factory=list)
    seen: set[tuple[str, str, str, bytes]] = field(default_factory=set)
    languages: list[str] = field(default_factory=list)
    parts: int = 0

    def attach(self, part: Message, content_type: str = "", filename: str | None = None) -> None:
        content_type = content_type or _content_type(part)
        if content_type.startswith("message/"):
            try:
                data = _message_part_bytes(part)
            except Exception:
                data = b""
        else:
            data = _payload_bytes(part)
        content_id = _content_id(part)
        disposition = _disposition(part)
        inline = disposition == "inline" or (not disposition and bool(content_id))
        filename = _filename(part) if filename is None else filename
        if not filename:
            stem = "image" if inline and content_type.startswith("image/") else "attachment"
            extension = _EXTENSIONS.get(content_type, ".bin")
            filename = f"{stem}-{len(self.attachments) + 1}{extension}"
        key = (filename, content_type, content_id, hashlib.sha256(data).digest())
        if key in self.seen:
            return
        self.seen.add(key)
        self.attachments.append(EmailAttachment(filename, content_type, data, inline, content_id))


# A body segment: (text, converted from HTML).
# HTML is converted only once the alternative to use is chosen.
_Segment = tuple[str, bool]


def _segments_text(segments: list[_Segment]) -> str:
    texts = (_tidy(html_to_text(text) if is_html else text) for text, is_html in segments)
    return "\n\n".join(text for text in texts if text)


# A boundary line followed by a part's first header.
_BOUNDARY_LINE_RE = re.compile(
    rb"^--([!-~][ -~]{0,69}?)[ \t]*\r?\ncontent-", re.MULTILINE | re.IGNORECASE
)


def _body_text(part: Message, content_type: str) -> str:
    data = _payload_bytes(part)
    params = _params(part)
    charset = params.get("charset") or None
    if content_type == "text/html" and charset is None:
        meta = re.search(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_.:-]+)", data[:4096], re.I)
        charset = meta.group(1).decode("ascii") if meta else None
    text = _decode_bytes(data, charset)
    if content_type == "text/html":
        return text  # converted later, if this alternative is the one used
    if params.get("format", "").lower() == "flowed":
        return _unflow(text, delsp=params.get("delsp", "").lower() == "yes")
    return text


def _unflow(text: str, *, delsp: bool) -> str:
    """RFC 3676 format=flowed: soft line breaks (a trailing space) joined."""
    out: list[str] = []
    current: str | None = None
    current_depth = -1
    for raw_line in text.replace("\r\n", "\n").split("\n"):
        depth = len(raw_line) - len(raw_line.lstrip(">"))
        content = raw_line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        flowed = content.endswith(" ") and content != "-- "
        if current is not None and depth == current_depth:
            current += content
        else:
            if current is not None:
                out.append(current)
            current = ("> " * depth) + content if depth else content
            current_depth = depth
        if flowed:
            if delsp:
                current = current[:-1]
        else:
            out.append(current)
            current = None
            current_depth = -1
    if current is not None:
        out.append(current)
    return "\n".join(out)


def _choose_alternative(choices: list[list[_Segment]]) -> list[_Segment]:
    def has_text(segments: list[_Segment]) -> bool:
        return any(text.strip() for text, _ in segments)

    for segments in choices:
        if has_text(segments) and not any(from_html for _, from_html in segments):
            return segments
    for segments in choices:
        if has_text(segments):
            return segments
    return []


def _recover_boundary(part: Message) -> Message | None:
    """A multipart whose declared boundary never occurs: re-read it with the boundary its
    body actually uses (the first ``--token`` line), or None."""
    data = _payload_bytes(part)
    match = _BOUNDARY_LINE_RE.search(data[:65536])
    if not match:
        return None
    boundary = match.group(1).rstrip(b"-").decode("ascii")
    if not boundary:
        return None
    content_type = _content_type(part)
    head = f'Content-Type: {content_type}; boundary="{boundary}"\n\n'.encode()
    try:
        recovered = BytesParser(policy=policy.default).parsebytes(head + data)
    except Exception:
        return None
    return recovered if recovered.is_multipart() else None


def _walk(part: Message, depth: int, acc: _Walk) -> list[_Segment]:
    acc.parts += 1
    if depth > _MAX_DEPTH or acc.parts > _MAX_PARTS:
        return []
    content_type = _content_type(part)
    maintype = content_type.split("/", 1)[0]

    if content_type in ("message/rfc822", "message/global"):
        inner = _children(part)
        if not inner:
            acc.attach(part)
            return []
        return _forwarded(inner[0], depth, acc)
    if maintype == "message":  # delivery-status, disposition-notification, partial, ...
        acc.attach(part)
        return []

    if maintype == "multipart":
        children = _children(part)
        if not children:
            recovered = _recover_boundary(part)
            if recovered is not None:
                return _walk(recovered, depth + 1, acc)
            text = _body_text(part, "text/plain")
            return [(text, False)] if text.strip() else []
        if content_type == "multipart/alternative":
            return _choose_alternative([_walk(child, depth + 1, acc) for child in children])
        if content_type == "multipart/report":
            segments = _walk(children[0], depth + 1, acc)
            for child in children[1:]:
                acc.attach(child)
            return segments
        segments = []
        for child in children:
            segments.extend(_walk(child, depth + 1, acc))
        return segments

    if content_type not in ("text/plain", "text/html"):
        acc.attach(part, content_type)
        return []
    filename = _filename(part)
    if filename or _disposition(part) == "attachment":
        acc.attach(part, content_type, filename)
        return []
    acc.languages.extend(_header_texts(part, "Content-Language"))
    return [(_body_text(part, content_type), content_type == "text/html")]


def _forwarded(inner: Message, depth: int, acc: _Walk) -> list[_Segment]:
    """A forwarded message's text under a Gmail-style header block."""
    lines = ["---------- Forwarded message ---------"]
    for name in ("From", "Date", "Subject", "To"):
        value = _header_text(inner, name)
        if value:
            lines.append(f"{name}: {value}")
    body = _segments_text(_walk(inner, depth + 1, acc))
    return [("\n".join(lines) + "\n\n" + body, False)]
