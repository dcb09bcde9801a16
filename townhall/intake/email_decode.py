"""Inbound e-mail: strings and headers decoded defensively (charsets, RFC 2047 words,
addresses, message ids, dates, languages, the headers kept for audit)."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import Message
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_to_datetime

_MAX_HEADER_CHARS = 1000  # per header value kept in ``headers``
LOOP_HEADER = "X-Townhall-Loop"


# --------------------------------------------------------------------------------------
# Strings


_SURROGATES_RE = re.compile("[\ud800-\udfff]+")
_ESCAPED_BYTE_RE = re.compile("[\udc80-\udcff]+")
_INVISIBLE_RE = re.compile("[\x00\u200b\ufeff\u00ad]")
_WS_RE = re.compile(r"\s+")


def _unescape_bytes(match: re.Match[str]) -> str:
    raw = bytes(ord(c) - 0xDC00 for c in match.group())
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("windows-1252", errors="replace")


def _clean(value: str) -> str:
    """``value`` as valid Unicode: raw 8-bit bytes the parser kept as surrogate escapes are
    decoded (UTF-8, else Windows-1252), other lone surrogates and NULs removed."""
    if _SURROGATES_RE.search(value):
        try:
            value = value.encode("utf-8", "surrogateescape").decode("utf-8")
        except UnicodeError:
            value = _ESCAPED_BYTE_RE.sub(_unescape_bytes, value)
            value = _SURROGATES_RE.sub("\ufffd", value)
    return _INVISIBLE_RE.sub("", value)


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _codec(charset: str | None) -> str:
    """The Python codec name of a MIME charset label, or "" when unknown or not text."""
    label = (charset or "").strip().strip("\"'").lower()
    if not label or label in ("unknown-8bit", "x-unknown", "unknown", "default"):
        return ""
    try:
        name = codecs.lookup(label).name
        b"".decode(name)  # refuses non-text codecs such as base64 or rot13
    except (LookupError, ValueError):
        return ""
    return _CODEC_SUPERSETS.get(name, name)


# Labels read as the superset every mail client uses for them.
_CODEC_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "euc_kr": "cp949", "shift_jis": "cp932"}


def _decode_bytes(data: bytes, charset: str | None) -> str:
    """Text of ``data`` in the declared ``charset``, tolerating wrong or missing labels.

    Missing, unknown, ASCII and Latin-1 labels are read as UTF-8 when that decodes, else as
    Windows-1252 (what mail clients actually mean by them). A declared charset that does not
    fit is tried as UTF-8; UTF-8 that does not fit is read as Windows-1252 (the usual
    mislabel); anything else is decoded with replacement characters.
    """
    codec = _codec(charset)
    if codec in ("", "ascii", "iso8859-1"):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("windows-1252", errors="replace")
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        pass
    except Exception:  # a broken codec (some CJK codecs raise other errors)
        return data.decode("utf-8", errors="replace")
    if codec == "utf-8":
        return data.decode("windows-1252", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode(codec, errors="replace")


def _tidy(text: str) -> str:
    """Unix newlines, no trailing spaces, at most one blank line in a row, no blank edges."""
    text = _clean(text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    out: list[str] = []
    blank = 0
    for line in lines:
        if line:
            blank = 0
        else:
            blank += 1
            if blank > 1:
                continue
        out.append(line)
    return "\n".join(out).strip("\n")


# --------------------------------------------------------------------------------------
# Headers


def _raw_headers(msg: Message, name: str) -> list[str]:
    """The raw values of header ``name`` (unparsed, unfolded), whatever the policy."""
    key = name.lower()
    values: list[str] = []
    try:
        items = list(msg.raw_items())
    except Exception:
        return values
    for item_name, value in items:
        if str(item_name).lower() == key:
            values.append(" ".join(str(value).replace("\r", " ").replace("\n", " ").split()))
    return values


def _decode_words(value: str) -> str:
    """RFC 2047 encoded words in ``value`` decoded (best effort)."""
    try:
        return str(make_header(decode_header(value)))
    except Exception:
        return value


_B_WORD_RE = re.compile(r"=\?[^?\s]+\?[bB]\?([^?\s]*)\?=")
_BASE64_RE = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def _header_texts(msg: Message, name: str) -> list[str]:
    """Every value of header ``name``, decoded (RFC 2047), one line each.

    An encoded word in a wrong charset is read as :func:`_decode_bytes` reads bodies; one that
    does not decode at all (bad base64) is kept as written rather than turned into
    replacement characters or garbage."""
    raws = _raw_headers(msg, name)
    try:
        values = list(msg.get_all(name) or [])
    except Exception:
        return [_one_line(_clean(_lenient_words(raw) or raw)) for raw in raws]
    texts: list[str] = []
    for index, value in enumerate(values):
        text = _one_line(_clean(str(value)))
        if "\ufffd" in text and len(values) == len(raws):
            raw = raws[index]
            bad_base64 = any(not _BASE64_RE.fullmatch(word) for word in _B_WORD_RE.findall(raw))
            lenient = "" if bad_base64 else _one_line(_clean(_lenient_words(raw)))
            if lenient and "\ufffd" not in lenient:
                text = lenient
            elif "\ufffd" not in _clean(raw):
                text = _one_line(_clean(raw))
        texts.append(text)
    return texts


def _lenient_words(raw: str) -> str:
    """RFC 2047 words decoded with the charset fallbacks of :func:`_decode_bytes`, or ""."""
    try:
        chunks = decode_header(raw)
    except Exception:
        return ""
    return "".join(
        chunk if isinstance(chunk, str) else _decode_bytes(chunk, charset)
        for chunk, charset in chunks
    )


def _header_text(msg: Message, name: str) -> str:
    values = _header_texts(msg, name)
    return values[0] if values else ""


def _has_header(msg: Message, name: str) -> bool:
    return bool(_raw_headers(msg, name))


_BAD_ADDRESS_RE = re.compile(r"[\s<>()\[\],;\\\x00-\x1f\x7f]")


def _plausible_address(address: str) -> str:
    address = _clean(address).strip()
    if not address or len(address) > 320 or _BAD_ADDRESS_RE.search(address.replace('"', "")):
        return ""
    if address.startswith("@") or address.endswith("@"):
        return ""
    return address


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """``(display name, address)`` pairs of an address header; unusable ones left out."""
    pairs: list[tuple[str, str]] = []
    try:
        headers = msg.get_all(name) or []
        for header in headers:
            addresses = getattr(header, "addresses", None)
            if addresses is None:
                pairs.extend(getaddresses([str(header)]))
            else:
                pairs.extend((a.display_name, a.addr_spec) for a in addresses)
    except Exception:
        pairs = getaddresses([_decode_words(raw) for raw in _raw_headers(msg, name)])
    result: list[tuple[str, str]] = []
    for display, address in pairs:
        plausible = _plausible_address(address)
        if plausible:
            result.append((_one_line(_clean(display)), plausible))
    return result


_MSG_ID_RE = re.compile(r"<([^<>\s]+)>")


def _message_ids(msg: Message, name: str) -> list[str]:
    ids: list[str] = []
    for raw in _raw_headers(msg, name):
        found = _MSG_ID_RE.findall(raw)
        if not found:
            bare = raw.strip().strip("<>")
            found = [bare] if bare and not _WS_RE.search(bare) else []
        for value in found:
            value = _clean(value)[:_MAX_HEADER_CHARS]
            if value and value not in ids:
                ids.append(value)
    return ids


def _date(msg: Message) -> datetime | None:
    for raw in _raw_headers(msg, "Date"):
        try:
            value = parsedate_to_datetime(_clean(raw))
        except (TypeError, ValueError, IndexError, OverflowError):
            continue
        if value.tzinfo is None:  # "-0000": UTC, origin unknown
            value = value.replace(tzinfo=UTC)
        return value
    return None


_LANGUAGE_TAG_RE = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")


def _language(values: Iterable[str]) -> str:
    for value in values:
        first = value.split(",")[0].strip()
        if _LANGUAGE_TAG_RE.match(first):
            return first
    return ""


_AUDIT_HEADERS = (
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Delivered-To",
    "X-Original-To",
    "Return-Path",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "Auto-Submitted",
    "Precedence",
    "X-Auto-Response-Suppress",
    "X-Autoreply",
    "X-Autorespond",
    "X-Failed-Recipients",
    "List-Id",
    "List-Unsubscribe",
    LOOP_HEADER,
    "Content-Type",
    "Content-Language",
    "X-Mailer",
    "User-Agent",
    "Received",  # the first one: added by our own mail server
    "Authentication-Results",
    "Received-SPF",
)


def _audit_headers(msg: Message) -> dict[str, str]:
    """The headers of :data:`_AUDIT_HEADERS` that are present, as received (unfolded, the
    first value of each), with RFC 2047 words decoded."""
    firsts: dict[str, str] = {}
    try:
        items = list(msg.raw_items())
    except Exception:
        items = []
    for key, value in items:
        firsts.setdefault(str(key).lower(), str(value))
    kept: dict[str, str] = {}
    for name in _AUDIT_HEADERS:
        raw = firsts.get(name.lower())
        if raw is not None:
            value = _one_line(raw)
            if "=?" in value:
                value = _lenient_words(value) or value
            kept[name] = _one_line(_clean(value))[:_MAX_HEADER_CHARS]
    return kept


def _content_type(part: Message) -> str:
    try:
        return _clean(part.get_content_type()).lower()
    except Exception:
        return "text/plain"


def _param(part: Message, name: str) -> str:
    return _params(part).get(name.lower(), "")


def _params(part: Message) -> dict[str, str]:
    """The Content-Type parameters of ``part`` (lower-case names), read in one go."""
    try:
        pairs = part.get_params() or []
    except Exception:
        return {}
    params: dict[str, str] = {}
    for key, value in pairs[1:]:
        text = collapse_rfc2231_value(value) if isinstance(value, tuple) else value
        params.setdefault(_clean(str(key)).strip().lower(), _clean(str(text)).strip())
    return params
