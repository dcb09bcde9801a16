"""What of a resident's words may be published: their text with personal details masked.

E-mail and SMS bodies arrive with signatures, phone numbers, e-mail addresses and home
addresses in them, and web reports sometimes do too. The public description of a case
(Open311 ``description``, the public tracking page, the nearby list) is the text through
:func:`public_text`, computed once when the case is written, never on every read. Staff can
replace it with a summary they approve (``Case.public_summary``).

Pure: no database; the phone region comes from the caller (``TOWNHALL_PHONE_REGION``).
"""

from __future__ import annotations

import re

import phonenumbers

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
ADDRESS_MASK = "[address]"
NAME_MASK = "[name]"

# Generous on purpose: anything shaped like an address is masked (local@domain.tld).
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# A run of digits long enough to be a phone number (PhoneNumberMatcher is only asked then).
_DIGITS = re.compile(r"\d")
# Digits the matcher did not take but that still read like a number to call: 7+ digits
# with the usual separators (+, spaces, dots, dashes, brackets).
_PHONE_FALLBACK = re.compile(r"(?<![\w])\+?\(?\d(?:[\s().-]{0,2}\d){6,14}(?![\w])")

_STREET_WORDS = (
    r"street|st|road|rd|avenue|ave|av|lane|ln|drive|dr|court|ct|place|pl|boulevard|blvd|"
    r"way|terrace|ter|close|crescent|cres|square|sq|highway|hwy|parkway|pkwy|circle|cir"
)
# "12 Elm Street", "12B Old Mill Rd", "Apt 4" / "flat 3" / "unit 2B" after them.
_STREET_ADDRESS = re.compile(
    rf"\b\d{{1,5}}[A-Za-z]?(?:[-/]\d{{1,5}})?\s+(?:[A-Za-zÀ-ÿ'.-]+\s+){{0,3}}"
    rf"(?:{_STREET_WORDS})\b\.?(?:,?\s+(?:apt|apartment|flat|unit|suite|#)\.?\s*\w{{1,6}})?",
    re.IGNORECASE,
)
# Spanish order: "calle Mayor 12", "avenida de la Paz 4, 2º B".
_CALLE = re.compile(
    r"\b(?:calle|c/|avenida|avda\.?|av\.|paseo|plaza|camino|carrera)\s+"
    r"(?:[A-Za-zÀ-ÿ'.-]+\s+){0,4}\d{1,5}[A-Za-z]?(?:\s*,?\s*\d{1,2}\s*[ºª°]?\s*[A-Za-z]?)?\b",
    re.IGNORECASE,
)
_UNIT = re.compile(r"\b(?:apt|apartment|flat|unit|piso|puerta)\.?\s*#?\s*\d{1,5}[A-Za-z]?\b", re.I)
# "my name is Ana Souza", "me llamo Ana", "mi nombre es Ana Souza".
_NAME_INTRO = re.compile(
    r"\b((?i:my name is|me llamo|mi nombre es))\s+"
    r"([A-ZÀ-Þ][\w'-]+(?:\s+[A-ZÀ-Þ][\w'-]+){0,2})",
    re.UNICODE,
)
# Cheap substring checks before the patterns that would otherwise try every position.
_NAME_INTRO_WORDS = ("my name is", "me llamo", "mi nombre es")
_CALLE_WORDS = ("calle", "c/", "avenida", "avda", "av.", "paseo", "plaza", "camino", "carrera")
_UNIT_WORDS = ("apt", "apartment", "flat", "unit", "piso", "puerta")
_DIGIT_THEN_SPACE = re.compile(r"\d[A-Za-z]?(?:[-/]\d+)?\s")
# Where a signature starts: the "-- " delimiter, a sign-off on its own line, or the
# phone's "Sent from my …".
_SIGNATURE_DELIMITER = re.compile(r"^--\s*$")
_SIGN_OFF = re.compile(
    r"^\s*(?:(?:kind|best|warm|many)\s+regards|regards|best(?:\s+wishes)?|thanks(?:\s+again)?|"
    r"thank\s+you|many\s+thanks|cheers|sincerely|yours(?:\s+(?:sincerely|faithfully|truly))?|"
    r"un\s+saludo|saludos(?:\s+cordiales)?|atentamente|cordialmente|gracias|muchas\s+gracias)"
    r"\s*[,.!]?\s*$",
    re.IGNORECASE,
)
_SENT_FROM = re.compile(r"^\s*(?:sent from my|enviado desde mi)\b", re.IGNORECASE)
# A sign-off this far from the end (in non-empty lines) still starts a signature.
SIGNATURE_TAIL_LINES = 6


def signature_cut(text: str) -> str:
    """Return `text` without its signature: from a ``-- `` line, a "Sent from my …" line,
    or a sign-off line ("Regards", "Saludos") near the end, to the end."""
    if "\n" not in text and "\r" not in text:
        return text  # one line: no signature block to cut
    lines = text.splitlines()
    non_empty = [i for i, line in enumerate(lines) if line.strip()]
    tail = set(non_empty[-SIGNATURE_TAIL_LINES:])
    for i, line in enumerate(lines):
        if _SIGNATURE_DELIMITER.match(line) or _SENT_FROM.match(line):
            return "\n".join(lines[:i]).rstrip()
        # A sign-off is a signature only near the end, and never the whole message.
        if i in tail and i != non_empty[0] and _SIGN_OFF.match(line):
            return "\n".join(lines[:i]).rstrip()
    return text


def _phones_mask(text: str, region: str) -> str:
    if len(_DIGITS.findall(text)) < 7:
        return text
    spans: list[tuple[int, int]] = []
    try:
        for match in phonenumbers.PhoneNumberMatcher(text, region or None, leniency=0):
            spans.append((match.start, match.end))
    except Exception:  # a library surprise must not stop a case being written
        spans = []
    for start, end in reversed(spans):
        text = text[:start] + PHONE_MASK + text[end:]
    return _PHONE_FALLBACK.sub(PHONE_MASK, text)


def personal_details_mask(text: str, *, region: str = "US") -> str:
    """Return `text` with e-mail addresses, phone numbers, street addresses and
    self-introductions masked (``[email]``, ``[phone]``, ``[address]``, ``[name]``)."""
    if not text:
        return text
    # Each pattern runs only where it could match: most reports have no "@", few digits.
    if "@" in text:
        text = _EMAIL.sub(EMAIL_MASK, text)
    folded = text.lower()
    if _DIGITS.search(text):
        text = _phones_mask(text, region)
        if _DIGIT_THEN_SPACE.search(text):
            text = _STREET_ADDRESS.sub(ADDRESS_MASK, text)
        if any(word in folded for word in _CALLE_WORDS):
            text = _CALLE.sub(ADDRESS_MASK, text)
        if any(word in folded for word in _UNIT_WORDS):
            text = _UNIT.sub(ADDRESS_MASK, text)
    if any(intro in folded for intro in _NAME_INTRO_WORDS):
        text = _NAME_INTRO.sub(lambda m: f"{m.group(1)} {NAME_MASK}", text)
    return text


def public_text(text: str, *, region: str = "US") -> str:
    """Return what may be published of a resident's `text`: signature cut off, personal
    details masked, surrounding blank space trimmed."""
    return personal_details_mask(signature_cut(text or ""), region=region).strip()
