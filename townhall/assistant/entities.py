"""Entities in a resident's message: an address, a date, a case reference, a waste stream,
a service type. The dialogue calls one extractor on a slot answer ("12 elm st" for the
address slot), understanding calls `entities_extract` on every message.

Addresses come from the gazetteer (places' fuzzy search), streams from waste's own list,
services from intake's finder: the assistant reads them through their selectors. Dates are
parsed by hand (English and Spanish: today, tomorrow, next Monday, 12 March, el lunes,
12 de marzo, 2026-03-12): the few forms residents type, without a parsing library.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

from django.conf import settings

from townhall.assistant.nlu_index import text_fold

# --- case references --------------------------------------------------------------------

_REFERENCE = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{1,4})[- ]?(\d{2})[- ]?(\d{1,12})(?![A-Za-z0-9])"
)


def reference_find(text: str) -> str | None:
    """The first case reference in `text`, normalised to PREFIX-YY-NNNNNN, or None.

    Forgiving of case and separators ("th 26 123", "TH26000123"), strict about the prefix,
    so another council's or a parcel's number is not taken for ours."""
    prefix = settings.TOWNHALL_REFERENCE_PREFIX.upper()
    for match in _REFERENCE.finditer(text):
        if match.group(1).upper() == prefix:
            return f"{prefix}-{match.group(2)}-{int(match.group(3)):06d}"
    return None


def reference_like(text: str) -> str | None:
    """Something shaped like a reference that is not one of ours ("AB-26-000123"): the
    dialogue says which format to use instead of searching for it."""
    if reference_find(text):
        return None
    match = _REFERENCE.search(text)
    return match.group(0) if match else None


# --- dates ------------------------------------------------------------------------------

WEEKDAYS = {
    "en": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    "es": ["lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo"],
}
MONTHS = {
    "en": [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ],
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
}
RELATIVE = {
    "day after tomorrow": 2,
    "pasado manana": 2,
    "this morning": 0,
    "esta manana": 0,
    "today": 0,
    "tonight": 0,
    "hoy": 0,
    "esta noche": 0,
    "tomorrow": 1,
    "manana": 1,
    "yesterday": -1,
    "ayer": -1,
}
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b")
_IN_DAYS = re.compile(r"\b(?:in|en|dentro de) (\d{1,3}) (?:days?|dias?)\b")
_NEXT = ("next ", "proximo ", "el proximo ", "el ")


def _month_index(word: str) -> int | None:
    for names in MONTHS.values():
        for number, name in enumerate(names, start=1):
            if word == name or (len(word) >= 3 and name.startswith(word)):
                return number
    return None


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _day_month(folded: str, today: dt.date) -> dt.date | None:
    """ "12 March", "12th of march", "march 12", "12 de marzo": the next such day."""
    words = r"[a-z]{3,10}"
    patterns = (
        rf"\b(\d{{1,2}})(?:st|nd|rd|th)?(?: of| de)? ({words})(?:,? (?:de )?(\d{{4}}))?\b",
        rf"\b({words}) (\d{{1,2}})(?:st|nd|rd|th)?(?:,? (\d{{4}}))?\b",
    )
    for position, pattern in enumerate(patterns):
        for match in re.finditer(pattern, folded):
            day_text, month_text = match.group(1), match.group(2)
            if position == 1:
                day_text, month_text = month_text, day_text
            month = _month_index(month_text)
            if month is None:
                continue
            year = int(match.group(3)) if match.group(3) else today.year
            found = _safe_date(year, month, int(day_text))
            if found and not match.group(3) and found < today - dt.timedelta(days=31):
                found = _safe_date(year + 1, month, int(day_text))  # "3 January" in December
            if found:
                return found
    return None


def date_parse(text: str, *, language: str = "en", today: dt.date | None = None) -> dt.date | None:
    """The date a resident means, or None. `today` defaults to the local date.

    A weekday alone means its next occurrence (today's name: today); "next Monday" the
    Monday after today. Numeric dates read month first in English (the US demo council) and
    day first in Spanish; ISO dates are read as they are."""
    from django.utils import timezone

    today = today or timezone.localdate()
    folded = " " + re.sub(r"[^\w/ -]", " ", text_fold(text)) + " "
    folded = " ".join(folded.split())
    folded = re.sub(r"\b(?:por|de) la manana\b", " ", folded)  # "in the morning", no date
    if match := _ISO.search(folded):
        return _safe_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if match := _IN_DAYS.search(folded):
        return today + dt.timedelta(days=int(match.group(1)))
    for phrase, offset in RELATIVE.items():
        if re.search(rf"\b{phrase}\b", folded):
            return today + dt.timedelta(days=offset)
    for names in WEEKDAYS.values():
        for number, name in enumerate(names):
            match = re.search(rf"(\b(?:{'|'.join(_NEXT)}))?\b{name}\b", folded)
            if match:
                ahead = (number - today.weekday()) % 7
                if match.group(1) and match.group(1).strip() in {"next", "proximo", "el proximo"}:
                    ahead = ahead or 7
                return today + dt.timedelta(days=ahead)
    found = _day_month(folded, today)
    if found:
        return found
    if match := _NUMERIC.search(folded):
        first, second = int(match.group(1)), int(match.group(2))
        month, day = (second, first) if language.startswith("es") or first > 12 else (first, second)
        year = int(match.group(3)) if match.group(3) else today.year
        if year < 100:
            year += 2000
        return _safe_date(year, month, day)
    return None


# --- waste streams ----------------------------------------------------------------------

STREAM_WORDS: dict[str, tuple[str, ...]] = {
    "christmas_tree": ("christmas tree", "xmas tree", "arbol de navidad", "arboles de navidad"),
    "garden": ("garden", "yard waste", "leaves", "grass", "jardin", "poda", "hojas"),
    "organics": ("organics", "food", "compost", "green bin", "organico", "comida", "organica"),
    "recycling": ("recycl", "blue bin", "reciclaje", "reciclable", "envases", "carton"),
    "bulky": ("bulky", "sofa", "mattress", "furniture", "voluminoso", "muebles", "colchon"),
    "garbage": ("garbage", "trash", "rubbish", "black bin", "refuse", "basura", "residuos"),
}


_streams: list[tuple[float, dict[str, str]]] = []
STREAMS_SECONDS = 60.0  # streams change by import, rarely; a message should not query them


def _stream_names() -> dict[str, str]:
    from townhall.waste.selectors import stream_names

    now = time.monotonic()
    if _streams and _streams[0][0] > now:
        return _streams[0][1]
    names = {code: stream.name for code, stream in stream_names().items()}
    _streams[:] = [(now + STREAMS_SECONDS, names)]
    return names


def streams_cache_clear() -> None:
    _streams.clear()


def stream_match(text: str, *, language: str = "en") -> str | None:
    """The code of the waste stream `text` names ("the recycling", "restos de comida"), if
    the council collects it; checked in order, so "christmas tree" is not "garden"."""
    folded = text_fold(text)
    known = _stream_names()
    for code, words in STREAM_WORDS.items():
        if code in known and any(re.search(rf"\b{re.escape(w)}", folded) for w in words):
            return code
    for code, name in known.items():  # a council's own stream, by its name
        if text_fold(name) in folded:
            return code
    return None


# --- addresses --------------------------------------------------------------------------

_STREET_WORDS = (
    r"street|st|road|rd|avenue|ave|av|lane|ln|drive|dr|way|court|ct|terrace|ter|place|pl"
    r"|close|crescent|boulevard|blvd|hill"
)
_ADDRESS_EN = re.compile(
    rf"\b(\d{{1,5}}[a-z]?)\s+((?:[a-z']+\s+){{0,3}}?(?:{_STREET_WORDS}))\b", re.IGNORECASE
)
_ADDRESS_ES = re.compile(
    r"\b(?:calle|avenida|avda|camino|plaza|paseo|c/)\s+((?:[\w']+\s+){0,3}?[\w']+)\s*,?\s*(\d{1,5})\b",
    re.IGNORECASE,
)
_STREET_ONLY = re.compile(rf"\b((?:[A-Za-z']+\s+){{1,3}}(?:{_STREET_WORDS}))\b", re.IGNORECASE)


def _address_span(text: str) -> str | None:
    if match := _ADDRESS_EN.search(text):
        return f"{match.group(1)} {match.group(2)}"
    if match := _ADDRESS_ES.search(text):  # "calle Elm 12" reads "12 Elm Street"
        return f"{match.group(2)} {match.group(1)} street"
    return None


def address_match(text: str, *, limit: int = 3) -> list[dict[str, Any]]:
    """Gazetteer addresses matching `text` (a whole slot answer, or the address inside a
    sentence), best first: `place_id`, `label`, `score` (0-100). Empty when none fits."""
    from townhall.places.selectors import place_search

    query = _address_span(text) or text
    if len(query) > 200:
        return []
    return [
        {"place_id": m.place.pk, "label": m.place.address, "score": round(m.score, 1)}
        for m in place_search(query, limit=limit)
    ]


def address_find(text: str) -> dict[str, Any] | None:
    """The address a message names, when it names one with a house number: the best match,
    or `{"text": span, "place_id": None}` when the gazetteer has no such address (the
    dialogue says it does not know it, instead of guessing)."""
    span = _address_span(text)
    if span is None:
        return None
    matches = address_match(span, limit=1)
    if not matches:
        return {"text": span, "place_id": None, "label": "", "score": 0.0}
    return matches[0] | {"text": span}


# --- services ---------------------------------------------------------------------------


def service_match(text: str, *, language: str = "en") -> dict[str, Any] | None:
    """The catalogue's best service for `text` ("a pothole outside" -> pothole), with its
    score, or None when no service fits. Costs one sentence encoding (intake's finder)."""
    from townhall.intake.selectors_finder import service_find

    answer = service_find(query=text[:500], language=language, limit=3)
    if not answer.services:
        return None
    best = answer.services[0]
    return {"code": best.code, "name": best.name, "score": answer.scores.get(best.code, 0.0)}


# --- all at once ------------------------------------------------------------------------


def entities_extract(
    text: str,
    *,
    language: str = "en",
    skill: str | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Every entity found in `text`: `reference`, `reference_invalid`, `date` (ISO string),
    `stream`, `address`, and `service` when the message is a report (`skill` report_issue:
    the finder costs an encoding, which other messages need not pay)."""
    found: dict[str, Any] = {}
    text = text[:1000]
    if reference := reference_find(text):
        found["reference"] = reference
    elif invalid := reference_like(text):
        found["reference_invalid"] = invalid
    if (date := date_parse(text, language=language, today=today)) is not None:
        found["date"] = date.isoformat()
    if stream := stream_match(text, language=language):
        found["stream"] = stream
    if address := address_find(text):
        found["address"] = address
    if skill == "report_issue" and (service := service_match(text, language=language)):
        found["service"] = service
    return found
