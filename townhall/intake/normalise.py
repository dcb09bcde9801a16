"""The one intake boundary for text: what every channel's Message is cleaned to before it is
kept or processed (docs/security/input.md).

Whatever a channel delivers (a NUL in an SMS, a form feed in an e-mail subject, a lone
surrogate from a broken JSON encoder, a bell in an Open311 description), the pipeline gets
text that every database (PostgreSQL refuses NUL in text), every XML writer and every page
can hold:

* text fields lose the C0 and C1 control characters except tab and newline (CR LF and a
  lone CR become LF), and lone surrogates become U+FFFD;
* one-line fields (names, subjects, addresses, ids) also turn tabs and newlines into spaces;
* the raw payload, kept for audit, loses nothing but what a database cannot store: NUL is
  written as U+2400 (the visible "symbol for null") and a lone surrogate as U+FFFD.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from townhall.intake.messages import Attachment, IncomingMessage, Location, Sender

# C0 controls but tab and newline (CR is folded into newline first), DEL, C1 controls.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile("[\t\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
NUL_SYMBOL = "\u2400"
ANSWERS_MAX_DEPTH = 5


def text_clean(value: object) -> str:
    """Multi-line text without control characters (tab and newline kept)."""
    text = value if isinstance(value, str) else str(value or "")
    if text.isascii() and text.isprintable():
        return text
    text = _SURROGATE.sub("\ufffd", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def line_clean(value: object) -> str:
    """One line of text: line breaks and tabs become one space, other controls go."""
    text = value if isinstance(value, str) else str(value or "")
    if text.isascii() and text.isprintable():
        return text
    text = _SURROGATE.sub("\ufffd", text)
    text = _LINE_BREAKS.sub(" ", text.replace("\r", "\n"))
    return _CONTROL.sub("", text)


def raw_clean(value: object) -> str:
    """The raw payload as a database can store it: only NUL and lone surrogates change."""
    text = value if isinstance(value, str) else str(value or "")
    return _SURROGATE.sub("\ufffd", text.replace("\x00", NUL_SYMBOL))


def xml_clean(value: str) -> str:
    """Text an XML 1.0 document can carry (it cannot carry most control characters at all,
    escaped or not)."""
    if value.isascii() and value.isprintable():
        return value
    return _XML_ILLEGAL.sub("\ufffd", value)


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _key_clean(key: Any) -> Any:
    return line_clean(key) if isinstance(key, str) else key


def _answer_clean(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return text_clean(value)
    if depth >= ANSWERS_MAX_DEPTH:
        return value
    if isinstance(value, list | tuple):
        return type(value)(_answer_clean(v, depth + 1) for v in value)
    if isinstance(value, Mapping):
        return {_key_clean(k): _answer_clean(v, depth + 1) for k, v in value.items()}
    return value


def message_normalise(message: IncomingMessage) -> IncomingMessage:
    """`message` with every text field cleaned as above; nothing else changes."""
    sender = message.sender
    place = message.place
    return dataclasses.replace(
        message,
        sender=Sender(
            email=line_clean(sender.email).strip(),
            phone=line_clean(sender.phone).strip(),
            handle=line_clean(sender.handle).strip(),
            name=line_clean(sender.name).strip(),
            language=line_clean(sender.language).strip(),
        ),
        text=text_clean(message.text),
        subject=line_clean(message.subject),
        attachments=tuple(
            Attachment(
                filename=line_clean(a.filename),
                content_type=line_clean(a.content_type),
                data=a.data,
                inline=a.inline,
            )
            for a in message.attachments
        ),
        place=Location(
            lat=place.lat,
            long=place.long,
            address=line_clean(place.address),
            address_id=line_clean(place.address_id),
        ),
        thread_hint=line_clean(message.thread_hint),
        external_id=line_clean(message.external_id),
        source=line_clean(message.source),
        raw=raw_clean(message.raw),
        automatic=line_clean(message.automatic),
        service_code=line_clean(message.service_code),
        answers={_key_clean(k): _answer_clean(v) for k, v in message.answers.items()},
        media_url=line_clean(message.media_url),
        priority=line_clean(message.priority),
    )
