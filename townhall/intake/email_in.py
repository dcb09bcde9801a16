"""Inbound e-mail: raw MIME in, a clean and classified :class:`ParsedEmail` out.

Pure Python, no database: the webhook and the IMAP poller hand the raw bytes to
:func:`email_parse`; what to do with the result (thread it onto a case, open one, drop it)
is the caller's business.

* The body: the text/plain part when there is one, else the HTML converted to readable text
  (BeautifulSoup with the stdlib ``html.parser``). ``new_text`` is that text without the
  quoted history and the signature, so a reply adds only what is new.
* Attachments and inline images are kept; the body parts themselves are not attachments.
* :func:`email_automatic_reason` says why a message was sent by a machine (RFC 3834
  auto-replies, bounces, read receipts, list mail, no-reply senders, our own mail coming
  back), or ``""`` for a person's mail. Such mail must never open a case.
* Case references (``TH-26-004211``) are found with :func:`reference_find`; per-case reply
  addresses (``case+TH-26-004211.k3j9x2abcd@reply.example.gov``) are signed with an HMAC by
  :func:`reply_address_make` and checked by :func:`reply_address_parse`.

:func:`email_parse` never raises on malformed input (only :class:`EmailTooLarge` above the
size limit): every header and part is read defensively, and a last-resort fallback returns
what can be salvaged, with an ``X-Townhall-Parse-Error`` entry in ``headers``.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.generator import BytesGenerator
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_to_datetime
from io import BytesIO
from types import MappingProxyType

from bs4 import BeautifulSoup, ParserRejectedMarkup
from bs4.element import NavigableString, PreformattedString, Tag

# Reply addresses are made by notify (on the mail it sends) and read here.
from townhall.notify.reply_address import reply_address_make, reply_address_parse

__all__ = [
    "DEFAULT_MAX_BYTES",
    "EmailAttachment",
    "EmailTooLarge",
    "ParsedEmail",
    "email_automatic_reason",
    "email_new_text",
    "email_parse",
    "html_to_text",
    "reference_find",
    "reply_address_make",
    "reply_address_parse",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
LOOP_HEADER = "X-Townhall-Loop"

# Bounds on the work one message can cause.
_MAX_DEPTH = 20  # MIME nesting
_MAX_PARTS = 500  # MIME parts walked
_MAX_HTML_CHARS = 1_000_000  # HTML converted to text (the rest is dropped), about 2 s
_MAX_HEADER_CHARS = 1000  # per header value kept in ``headers``
_MAX_FILENAME_CHARS = 200


class EmailTooLarge(ValueError):
    """The raw message is larger than the limit given to :func:`email_parse`."""


@dataclass(frozen=True)
class EmailAttachment:
    filename: str  # sanitised: no path, no control characters; generated when none was given
    content_type: str  # lower-case "type/subtype" as declared
    data: bytes  # decoded content
    inline: bool  # shown in the body (Content-Disposition: inline, or a cid: resource)
    content_id: str  # without <>, "" if none


@dataclass(frozen=True)
class ParsedEmail:
    from_address: str  # bare address as given ("" if none/unparseable)
    from_name: str
    to: tuple[str, ...]  # To + Cc + Delivered-To/X-Original-To addresses, lower-cased
    subject: str  # decoded (RFC 2047), whitespace collapsed
    message_id: str  # without <>
    in_reply_to: str
    references: tuple[str, ...]
    date: datetime | None  # aware
    text: str  # best plain-text body
    new_text: str  # `text` without quoted reply history and signature
    attachments: tuple[EmailAttachment, ...]
    automatic: str  # "" for a person's mail, otherwise a short machine reason
    language_hint: str  # Content-Language (first tag) if any, else ""
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


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


# --------------------------------------------------------------------------------------
# Machine mail


_NO_REPLY_LOCALS = frozenset(
    {
        "noreply",
        "no-reply",
        "no_reply",
        "donotreply",
        "do-not-reply",
        "do_not_reply",
        "dontreply",
    }
)
_DAEMON_LOCALS = frozenset({"mailer-daemon", "postmaster"})
_PRECEDENCE_AUTOMATIC = frozenset({"bulk", "junk", "list", "auto_reply"})
_SUPPRESS_TOKENS = frozenset({"oof", "all", "autoreply"})
_AUTOMATIC_SUBJECT_RE = re.compile(
    r"^\s*(?:"
    r"automatic reply|auto(?:matic)?[- ]?(?:reply|response)|autoreply|out of (?:the )?office"
    r"|undeliverable|undelivered mail|undelivered|delivery status notification"
    r"|delivery (?:has )?failed|mail delivery (?:failed|failure|system)|returned mail"
    r"|failure notice|respuesta autom[aá]tica|fuera de la oficina|r[ée]ponse automatique"
    r"|absence du bureau|automatische antwort|abwesenheitsnotiz|resposta autom[aá]tica"
    r"|risposta automatica|automatisch antwoord"
    r")\b",
    re.IGNORECASE,
)
_DAEMON_NAME_RE = re.compile(
    r"\b(?:mail delivery (?:subsystem|system)|mail administrator|postmaster)\b", re.IGNORECASE
)


def _local_part(address: str) -> str:
    return address.rpartition("@")[0].lower() if "@" in address else address.lower()


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower().rstrip(".") if "@" in address else ""


def _first_token(value: str) -> str:
    """``"auto-replied"`` of ``"Auto-Replied; owner=x (comment)"``."""
    return re.split(r"[;(\s]", value.strip(), maxsplit=1)[0].lower()[:40]


def email_automatic_reason(msg: Message, *, own_domains: Sequence[str] = ()) -> str:
    """Why ``msg`` was sent by a machine, or ``""`` when it looks like a person's mail.

    Checked in this order (the first that applies is the reason): our own loop header
    (``X-Townhall-Loop``) or a From address in ``own_domains`` (exact domain, any case);
    ``multipart/report`` (bounces, read receipts); ``X-Failed-Recipients``;
    ``Auto-Submitted`` other than ``no`` (RFC 3834); ``X-Autoreply`` / ``X-Autorespond``;
    ``X-Auto-Response-Suppress`` naming OOF, All or AutoReply; ``List-Id`` /
    ``List-Unsubscribe``; ``Precedence: bulk|junk|list|auto_reply``; a MAILER-DAEMON /
    postmaster or no-reply sender; ``Return-Path: <>``. An auto-reply-like subject ("Automatic
    reply:", "Out of Office", "Undeliverable:", "Respuesta automática:", ...) only counts with
    another weak signal: another ``X-Auto-Response-Suppress`` value, an
    ``X-MS-Exchange-Inbox-Rules-Loop`` header, or a "Mail Delivery System"-like sender name.
    """
    own = {d.strip().lstrip("@").lower().rstrip(".") for d in own_domains if d.strip()}
    senders = _addresses(msg, "From")
    from_name, from_address = senders[0] if senders else ("", "")

    if _has_header(msg, LOOP_HEADER):
        return "loop: our own mail"
    if from_address and _domain(from_address) in own:
        return "loop: sent from our own domain"

    content_type = _content_type(msg)
    if content_type == "multipart/report":
        report_type = _param(msg, "report-type").lower()
        if report_type == "delivery-status":
            return "bounce: delivery-status report"
        if report_type == "disposition-notification":
            return "receipt: disposition-notification report"
        return f"report: {report_type[:40] or 'unknown'}"
    if _has_header(msg, "X-Failed-Recipients"):
        return "bounce: x-failed-recipients"

    auto_submitted = _first_token(_header_text(msg, "Auto-Submitted"))
    if auto_submitted and auto_submitted != "no":
        return f"auto-submitted: {auto_submitted}"
    if _has_header(msg, "X-Autoreply"):
        return "x-autoreply header"
    if _has_header(msg, "X-Autorespond"):
        return "x-autorespond header"
    suppress = _header_text(msg, "X-Auto-Response-Suppress")
    tokens = {t.strip().lower() for t in re.split(r"[,;\s]+", suppress) if t.strip()}
    if tokens & _SUPPRESS_TOKENS:
        return "x-auto-response-suppress: " + ", ".join(sorted(tokens & _SUPPRESS_TOKENS))

    if _has_header(msg, "List-Id") or _has_header(msg, "List-Unsubscribe"):
        return "list mail"
    precedence = _first_token(_header_text(msg, "Precedence"))
    if precedence in _PRECEDENCE_AUTOMATIC:
        return f"precedence: {precedence}"

    sender_locals = {_local_part(address) for _, address in senders + _addresses(msg, "Sender")}
    if sender_locals & _DAEMON_LOCALS:
        return "mailer-daemon sender"
    if sender_locals & _NO_REPLY_LOCALS:
        return "no-reply sender"
    return_paths = _raw_headers(msg, "Return-Path")
    if return_paths and all(re.fullmatch(r"<\s*>", p.strip()) for p in return_paths):
        return "null return-path"

    if _AUTOMATIC_SUBJECT_RE.match(_header_text(msg, "Subject")):
        if tokens:
            return "auto-reply subject + x-auto-response-suppress"
        if _has_header(msg, "X-MS-Exchange-Inbox-Rules-Loop"):
            return "auto-reply subject + exchange inbox rule"
        if _DAEMON_NAME_RE.search(from_name):
            return "auto-reply subject + mail-system sender"
    return ""


# --------------------------------------------------------------------------------------
# HTML to text


_SKIP_TAGS = frozenset({"script", "style", "title", "template", "svg", "object"})
_PARAGRAPH_TAGS = frozenset(
    {
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "dl",
        "table",
        "pre",
        "hr",
        "address",
        "figure",
        "form",
        "fieldset",
        "blockquote",
    }
)
_LINE_TAGS = frozenset(
    {
        "div",
        "tr",
        "li",
        "dt",
        "dd",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "nav",
        "aside",
        "center",
        "figcaption",
        "caption",
        "thead",
        "tbody",
        "tfoot",
        "legend",
        "details",
        "summary",
        "body",
        "html",
    }
)
_CELL_TAGS = frozenset({"td", "th"})
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_DATA_URI_RE = re.compile(r"""src\s*=\s*["']?data:[^"'\s>]*["']?""", re.IGNORECASE)
_HTML_SPACE_RE = re.compile(r"[ \t\n\r\f\v\u00a0\u2007\u202f]+")


class _TextWriter:
    """Accumulates text with pending line breaks, collapsed spaces and quote prefixes."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pending = 0  # line breaks owed before the next text
        self.space = False  # a space owed before the next text on this line
        self.cell = False  # a cell separator owed before the next text on this line
        self.line_has_text = False
        self.started = False
        self.quote_depth = 0
        self.chunks = 0  # pieces of text written so far
        self.cell_start = False  # in a table cell that has no text yet

    def newline(self, count: int) -> None:
        if not self.cell_start:  # blocks at the start of a cell stay on the row's line
            self.pending = max(self.pending, count)

    def line_break(self) -> None:
        if not self.cell_start:
            self.pending += 1

    def _flush(self) -> None:
        if self.started and self.pending:
            self.parts.append("\n" * min(self.pending, 2))
            self.line_has_text = False
            self.space = self.cell = False
        self.pending = 0
        if not self.line_has_text:
            if self.quote_depth:
                self.parts.append("> " * self.quote_depth)
            self.space = self.cell = False
        elif self.cell:
            self.parts.append(" | ")
            self.space = self.cell = False
        elif self.space:
            if not self.parts[-1].endswith(" "):
                self.parts.append(" ")
            self.space = False

    def literal(self, text: str) -> None:
        self._flush()
        self.parts.append(text)
        self.started = self.line_has_text = True
        self.cell_start = False
        self.chunks += 1

    def text(self, text: str, *, pre: bool = False) -> None:
        if pre:
            lines = text.replace("\r\n", "\n").split("\n")
            for index, line in enumerate(lines):
                if index:
                    self.line_break()
                if line:
                    self.literal(line)
            return
        text = _HTML_SPACE_RE.sub(" ", text)
        if not text:
            return
        if text == " ":
            if self.line_has_text and not self.pending:
                self.space = True
            return
        if text[0] == " " and self.line_has_text and not self.pending:
            self.space = True
        stripped = text.strip(" ")
        self.literal(stripped)
        self.space = text[-1] == " "

    def result(self) -> str:
        return "".join(self.parts)


def _attribute(tag: Tag, name: str) -> str:
    value = tag.get(name)
    if value is None:
        return ""
    return value if isinstance(value, str) else " ".join(value)


_DECLARATION_RE = re.compile(r"<!(?!--)")


def _soup(html: str) -> BeautifulSoup:
    """The parsed HTML. The standard library's parser gives up on some broken markup
    declarations ("<![-"): those are then read as text, and failing that, everything is."""
    try:
        return BeautifulSoup(html, "html.parser")
    except ParserRejectedMarkup:
        pass
    try:
        return BeautifulSoup(_DECLARATION_RE.sub("&lt;!", html), "html.parser")
    except ParserRejectedMarkup:
        return BeautifulSoup(html.replace("&", "&amp;").replace("<", "&lt;"), "html.parser")


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML body: paragraphs and line breaks kept, list items as
    ``- item`` / ``1. item``, table cells separated by ``|``, link text kept (not the URL),
    ``<blockquote>`` quoted with ``> ``; scripts, styles, comments and hidden elements
    dropped; entities decoded and ``&nbsp;`` read as a space. Outlook's ``MsoNormal``
    paragraphs are lines (its empty paragraphs make the blank lines)."""
    html = _DATA_URI_RE.sub('src=""', html)  # pasted images: megabytes of base64
    if len(html) > _MAX_HTML_CHARS:
        html = html[:_MAX_HTML_CHARS]
    soup = _soup(html)
    writer = _TextWriter()
    lists: list[list[int]] = []  # per open list: [is_ordered, counter]
    pre_depth = 0
    # Iterative walk: (node, None) enters a node, (tag, chunks at entry) leaves a tag.
    stack: list[tuple[Tag | NavigableString, int | None]] = [(soup, None)]
    while stack:
        node, entered = stack.pop()
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, CDATA, doctype, ...
                writer.text(str(node), pre=pre_depth > 0)
            continue
        name = node.name.lower() if node.name else ""
        if entered is not None:  # leaving
            _leave(name, node, writer, lists, entered)
            if name == "pre":
                pre_depth -= 1
            continue
        if name in _SKIP_TAGS or node.has_attr("hidden"):
            continue
        style = _attribute(node, "style")
        if style and _HIDDEN_STYLE_RE.search(style):
            continue
        if name == "br":
            writer.line_break()
            continue
        if _is_outlook_paragraph(name, node):
            writer.newline(1)
        elif name in _PARAGRAPH_TAGS:
            writer.newline(1 if name in ("ul", "ol") and lists else 2)
        elif name in _LINE_TAGS:
            writer.newline(1)
        if name == "blockquote":
            writer.quote_depth += 1
        elif name == "pre":
            pre_depth += 1
        elif name in ("ul", "ol"):
            lists.append([1 if name == "ol" else 0, 0])
        elif name == "li":
            depth = max(len(lists), 1)
            marker = "- "
            if lists and lists[-1][0]:
                lists[-1][1] += 1
                marker = f"{lists[-1][1]}. "
            writer.literal("  " * (depth - 1) + marker)
            writer.space = False
        elif name in _CELL_TAGS:
            if writer.line_has_text and not writer.pending:
                writer.cell = True
            writer.cell_start = True
        stack.append((node, writer.chunks))
        stack.extend(
            (child, None)
            for child in reversed(node.contents)
            if isinstance(child, Tag | NavigableString)
        )
    return _tidy(writer.result())


def _is_outlook_paragraph(name: str, node: Tag) -> bool:
    """Outlook writes every line as ``<p class=MsoNormal>`` with no margin."""
    return name == "p" and _attribute(node, "class").lower().startswith("mso")


def _leave(name: str, node: Tag, writer: _TextWriter, lists: list[list[int]], chunks: int) -> None:
    if _is_outlook_paragraph(name, node):
        if writer.chunks == chunks:  # an empty Outlook paragraph: a blank line
            writer.line_break()
        else:
            writer.newline(1)
        return
    if name in _PARAGRAPH_TAGS:
        writer.newline(1 if name in ("ul", "ol") and len(lists) > 1 else 2)
    elif name in _LINE_TAGS:
        writer.newline(1)
    if name == "blockquote":
        writer.quote_depth = max(writer.quote_depth - 1, 0)
    elif name in ("ul", "ol") and lists:
        lists.pop()
    elif name in _CELL_TAGS:
        if writer.chunks != chunks:  # breaks at the end of a cell stay on the row's line
            writer.pending = 0
        writer.cell_start = False


# --------------------------------------------------------------------------------------
# Reply history and signatures


# "On <date>, <name> wrote:" and its translations: it has an address, a time or a date.
_ATTRIBUTION_RE = re.compile(
    r"^\s*(?:on|el|le|am|op|em|il|den|w\s+dniu|dne)\b"
    r"(?=.{0,300}?(?:@|[0-9]{1,2}:[0-9]{2}|[0-9]{4}|[0-9]{1,2}[/.][0-9]{1,2}))"
    r".{0,300}?\b(?:wrote|escribi[óo]|a\s+[ée]crit|schrieb|schreef|escreveu|ha\s+scritto|"
    r"skrev|pisze|napisa[łl]\(?a?\)?|napsal)\b[^:]{0,120}:\s*$",
    re.IGNORECASE,
)
_ORIGINAL_MESSAGE_RE = re.compile(
    r"^\s*-{2,}\s*(?:original message|mensaje original|message d'origine|"
    r"ursprüngliche nachricht|oorspronkelijk bericht|messaggio originale|"
    r"mensagem original|original meddelande|opprinnelig melding|alkuperäinen viesti)"
    r"\s*-{2,}\s*$",
    re.IGNORECASE,
)
_FORWARD_MARKER_RE = re.compile(
    r"^\s*(?:-{2,}\s*)?(?:forwarded message|begin forwarded message|mensaje reenviado|"
    r"message transféré|weitergeleitete nachricht|doorgestuurd bericht|"
    r"messaggio inoltrato|mensagem encaminhada|inicio del mensaje reenviado)\b",
    re.IGNORECASE,
)
_HEADER_FROM_RE = re.compile(
    r"^\s*\*?(?:from|de|von|van|da|od|fra|från|lähettäjä)\s*\*?\s*:\s*\S", re.IGNORECASE
)
_HEADER_SENT_RE = re.compile(
    r"^\s*\*?(?:sent|date|enviado|enviada|fecha|gesendet|datum|envoy[ée]|verzonden|inviato|"
    r"data|skickat|sendt|l[äa]hetetty)\s*\*?\s*:",
    re.IGNORECASE,
)
_HEADER_TO_RE = re.compile(
    r"^\s*\*?(?:to|subject|cc|para|asunto|an|betreff|[àa]|objet|aan|onderwerp|oggetto|"
    r"assunto|do|temat|till|ämne|til|emne|vastaanottaja|aihe)\s*\*?\s*:",
    re.IGNORECASE,
)
_HEADER_FROM_SENT_INLINE_RE = re.compile(
    r"^\s*\*?(?:from|de|von)\s*\*?\s*:.{1,300}\b(?:sent|enviado|gesendet|envoy[ée])\s*\*?\s*:",
    re.IGNORECASE,
)
_SEPARATOR_RE = re.compile(r"^\s*(?:_{8,}|-{8,})\s*$")
_SIGNATURE_RE = re.compile(r"^--$")
_DEVICE = (
    r"(?:iphone|ipad|ipod|android[\w -]{0,30}|samsung[\w -]{0,30}|galaxy[\w -]{0,30}"
    r"|huawei[\w -]{0,30}|pixel[\w -]{0,30}|blackberry[\w -]{0,30}|(?:mobile |cell |smart)?phone"
    r"|mobile(?: device)?|tablet|smartphone[\w -]{0,30}|t[ée]l[ée]fono(?: m[óo]vil)?|m[óo]vil"
    r"|celular|t[ée]l[ée]phone|portable|handy)"
)
_MAIL_APP = r"(?:outlook|mail|yahoo mail|gmail|proton ?mail|aol)(?: (?:for|on|para|pour) \w+)?"
_MOBILE_SIGNATURE_RE = re.compile(
    rf"^\s*(?:sent from my {_DEVICE}|sent from {_MAIL_APP}|get outlook for \w+"
    rf"|sent with proton ?mail[\w .]{{0,30}}|enviado desde mi {_DEVICE}|enviado desde {_MAIL_APP}"
    rf"|envoy[ée] de(?:puis)? mon {_DEVICE}|von meinem {_DEVICE} gesendet"
    rf"|verstuurd vanaf mijn {_DEVICE}|inviato da(?:l mio)? {_DEVICE}|enviado do meu {_DEVICE})"
    r"\s*\.?\s*$",
    re.IGNORECASE,
)
_FORWARD_SUBJECT_RE = re.compile(r"^\s*(?:fwd?|fw|rv|wg|tr|enc|doorst)\s*:", re.IGNORECASE)
_QUOTED_RE = re.compile(r"^\s*>")


def _is_attribution(lines: list[str], index: int) -> int:
    """How many lines (1-3) starting at ``index`` form an "On … wrote:" line, or 0."""
    for span in (1, 2, 3):
        if index + span > len(lines):
            break
        if _ATTRIBUTION_RE.match(" ".join(lines[index : index + span])):
            return span
    return 0


def _is_header_block(lines: list[str], index: int) -> bool:
    """An Outlook-style "From: … / Sent: …" header of a quoted message starts at ``index``."""
    line = lines[index]
    if _HEADER_FROM_SENT_INLINE_RE.match(line):
        return True
    if not _HEADER_FROM_RE.match(line):
        return False
    following = lines[index + 1 : index + 6]
    return any(_HEADER_SENT_RE.match(nxt) for nxt in following) and any(
        _HEADER_TO_RE.match(nxt) for nxt in following
    )


def _next_nonblank(lines: list[str], start: int) -> str:
    for index in range(start, len(lines)):
        if lines[index].strip():
            return lines[index]
    return ""


def _after_forward_marker(lines: list[str], index: int) -> bool:
    previous = [line for line in lines[max(index - 3, 0) : index] if line.strip()]
    return any(_FORWARD_MARKER_RE.match(line) for line in previous)


def email_new_text(text: str, *, forwarded: bool = False) -> str:
    """``text`` without the quoted history of a reply and without the signature.

    Cut at the first reply header: an "On … wrote:" attribution (English, Spanish "El …
    escribió:", French, German, Dutch, Portuguese, Italian, Scandinavian, Polish), a
    "-----Original Message-----" line or an Outlook "From: … Sent: …" header block (with the
    ``____`` line above it). An attribution followed by ``>`` lines is only dropped (so
    answers written between the quotes are kept). Lines starting with ``>`` are removed.
    Then cut at the signature separator ``-- `` or a "Sent from my iPhone" line. With
    ``forwarded`` (the subject says Fwd:/FW:/RV:...), header blocks are kept: they introduce
    the forwarded message, which is new to us; so are blocks under a "Forwarded message"
    line.
    """
    lines = _tidy(text).split("\n")
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        span = _is_attribution(lines, index)
        if span:
            if _QUOTED_RE.match(_next_nonblank(lines, index + span)):
                index += span
                continue
            if not forwarded:
                break
        if (
            not forwarded
            and (_ORIGINAL_MESSAGE_RE.match(line) or _is_header_block(lines, index))
            and not _after_forward_marker(lines, index)
        ):
            while kept and (not kept[-1].strip() or _SEPARATOR_RE.match(kept[-1])):
                kept.pop()
            break
        if _QUOTED_RE.match(line):
            index += 1
            continue
        if _SIGNATURE_RE.match(line.rstrip()) or _MOBILE_SIGNATURE_RE.match(line):
            break
        kept.append(line)
        index += 1
    return _tidy("\n".join(kept))


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


# --------------------------------------------------------------------------------------
# Parse


def email_parse(
    raw: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, own_domains: Sequence[str] = ()
) -> ParsedEmail:
    """Parse one raw RFC 5322 message (as received, any line endings).

    Never raises on malformed input; raises :class:`EmailTooLarge` when ``raw`` is longer than
    ``max_bytes``. ``own_domains`` are the domains we send from (see
    :func:`email_automatic_reason`).
    """
    if len(raw) > max_bytes:
        raise EmailTooLarge(f"message of {len(raw)} bytes is over the {max_bytes}-byte limit")
    try:
        return _parse(raw, own_domains)
    except Exception as exc:  # the safety net: every step above is meant not to get here
        logger.warning("e-mail parse fell back to raw text", exc_info=True)
        return _fallback(raw, exc)


def _parse(raw: bytes, own_domains: Sequence[str]) -> ParsedEmail:
    try:
        msg: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)
    except RecursionError:  # absurdly deep MIME nesting
        msg = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)

    senders = _addresses(msg, "From")
    from_name, from_address = senders[0] if senders else ("", "")
    recipients: list[str] = []
    for name in ("To", "Cc", "Delivered-To", "X-Original-To"):
        for _, address in _addresses(msg, name):
            lowered = address.lower()
            if lowered not in recipients:
                recipients.append(lowered)
    subject = _header_text(msg, "Subject")
    message_ids = _message_ids(msg, "Message-ID")
    in_reply_to = _message_ids(msg, "In-Reply-To")

    acc = _Walk()
    segments = _walk(msg, 0, acc)
    text = _tidy(_segments_text(segments))
    language = _language(_header_texts(msg, "Content-Language")) or _language(acc.languages)

    return ParsedEmail(
        from_address=from_address,
        from_name=from_name,
        to=tuple(recipients),
        subject=subject,
        message_id=message_ids[0] if message_ids else "",
        in_reply_to=in_reply_to[0] if in_reply_to else "",
        references=tuple(_message_ids(msg, "References")),
        date=_date(msg),
        text=text,
        new_text=email_new_text(text, forwarded=bool(_FORWARD_SUBJECT_RE.match(subject))),
        attachments=tuple(acc.attachments),
        automatic=email_automatic_reason(msg, own_domains=own_domains),
        language_hint=language,
        headers=MappingProxyType(_audit_headers(msg)),
    )


def _fallback(raw: bytes, exc: Exception) -> ParsedEmail:
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    text = _tidy(_decode_bytes(body or head, None))
    return ParsedEmail(
        from_address="",
        from_name="",
        to=(),
        subject="",
        message_id="",
        in_reply_to="",
        references=(),
        date=None,
        text=text,
        new_text=text,
        attachments=(),
        automatic="",
        language_hint="",
        headers=MappingProxyType({"X-Townhall-Parse-Error": type(exc).__name__}),
    )


# --------------------------------------------------------------------------------------
# Case references and reply addresses


@functools.lru_cache(maxsize=16)
def _reference_re(prefix: str) -> re.Pattern[str]:
    return re.compile(
        rf"(?<![A-Za-z0-9]){re.escape(prefix)}[- ]([0-9]{{2}})[- ]([0-9]{{6,}})(?![A-Za-z0-9])",
        re.IGNORECASE,
    )


def reference_find(text: str, *, prefix: str) -> str | None:
    """The first case reference in ``text`` (a subject or a body), normalised to
    ``f"{prefix}-{yy}-{digits}"``, or None.

    A reference is ``prefix``, a dash or a space, 2 digits, a dash or a space, 6 or more
    digits (ASCII), not glued to other letters or digits; any case. So ``TH-26-004211``,
    ``[TH-26-004211]``, ``th-26-004211`` and ``TH 26 004211`` are found; ``XTH-26-004211``
    and ``TH-26-0042`` are not.
    """
    if not prefix:
        raise ValueError("reference prefix must not be empty")
    match = _reference_re(prefix).search(text)
    if match is None:
        return None
    return f"{prefix}-{match.group(1)}-{match.group(2)}"
