"""Reading slot values out of what a resident typed: addresses, references, yes/no, contacts.

Thin wrappers over the domain selectors (the gazetteer's fuzzy search, the case reference
format), so every skill validates a slot the same way the portal validates its form field.
The understanding module may find the same entities first (`Understanding.entities`);
these are what the dialogue falls back on when it asks for one slot and gets an answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from townhall.cases.selectors import reference_parse
from townhall.core.errors import ValidationFailed
from townhall.intake.email_in import reference_find
from townhall.people.contacts import email_normalise, phone_normalise
from townhall.places.models import Place
from townhall.places.selectors import place_by_property_id, place_search


@dataclass(frozen=True)
class AddressFound:
    """One address when the words name one; else the close candidates (maybe none)."""

    place: Place | None
    candidates: tuple[Place, ...] = ()


def fold(text: str) -> str:
    """Lower case, accents and punctuation gone, spaces squeezed: for matching words."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w@.+-]+", " ", text).split())


# Words that surround an address in a sentence ("my bin day at 12 Elm St please").
_LEAD = re.compile(
    r"^.*?\b(?:at|on|in|near|outside|for|en|cerca de|delante de|frente a)\s+(?=\d)", re.I
)


def address_match(text: str, *, asked: bool = False) -> AddressFound:
    """Find the gazetteer address the words name: one clear match, or the candidates.

    Unless an address was just asked for (`asked`), the words must carry a house number:
    "when is my bin day" resembles no address closely enough to be offered one.
    """
    words = text.strip()[:200]
    if not words or not (asked or re.search(r"\d", words)):
        return AddressFound(None)
    tries = [words]
    trimmed = _LEAD.sub("", words)
    if trimmed != words:
        tries.insert(0, trimmed)
    for query in tries:
        matches = place_search(query, limit=5, min_score=70.0 if re.search(r"\d", query) else 85.0)
        if not matches:
            continue
        top = matches[0]
        # The portal's rule: one match, or one exact and no other close one.
        if len(matches) == 1 or (top.score >= 99 and matches[1].score < 90):
            return AddressFound(top.place)
        return AddressFound(None, tuple(m.place for m in matches))
    return AddressFound(None)


def place_get(property_id: str) -> Place | None:
    """The address a slot kept (by the council's property id)."""
    return place_by_property_id(property_id)


def reference_in(text: str) -> str | None:
    """The first case reference in the words, normalised (TH-26-000123), or None."""
    prefix = settings.TOWNHALL_REFERENCE_PREFIX
    found = reference_find(text, prefix=prefix)
    if found:
        return found
    bare = text.strip().upper()
    return bare if reference_parse(bare) else None


_YES = {
    "yes", "y", "yeah", "yep", "sure", "ok", "okay", "correct", "right", "please do",
    "yes please", "send", "send it", "yes send it", "go ahead", "si", "sí", "vale", "claro",
    "de acuerdo", "correcto", "enviar", "si enviarlo", "sí enviarlo", "enviarlo",
}  # fmt: skip
_NO = {
    "no", "n", "nope", "no thanks", "not now", "wrong", "no gracias", "incorrecto",
}  # fmt: skip


def yes_no(text: str) -> bool | None:
    """True for a yes, False for a no, None for anything else ("yes, send it" is a yes)."""
    words = fold(text).strip(" .!")
    if words in _YES or words in {fold(w) for w in _YES}:
        return True
    if words in _NO:
        return False
    first = words.split(" ")[0] if words else ""
    if first in {"yes", "si", "sí", "yeah", "ok", "okay"}:
        return True
    if first in {"no", "nope"}:
        return False
    return None


_EMAIL = re.compile(r"[^\s@<>()]+@[^\s@<>()]+\.[^\s@<>().,;]+")
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")


def contact_in(text: str) -> tuple[str, str] | None:
    """("email", address) or ("phone", E.164 number) found in the words, or None."""
    found = _EMAIL.search(text)
    if found:
        try:
            return "email", email_normalise(found.group(0))
        except ValidationFailed:
            return None
    found = _PHONE.search(text)
    if found:
        try:
            return "phone", phone_normalise(found.group(0), region=settings.TOWNHALL_PHONE_REGION)
        except ValidationFailed:
            return None
    return None


def choice_match(text: str, options: Sequence[tuple[str, str]]) -> str | None:
    """The value of the option (value, label) the words choose: by label, value or number."""
    words = fold(text)
    if not words:
        return None
    if words.isdigit() and 1 <= int(words) <= len(options):
        return options[int(words) - 1][0]
    for value, label in options:
        if words in {fold(label), fold(value)}:
            return value
    for value, label in options:  # "the large one", "it's small"
        if re.search(rf"\b{re.escape(fold(label))}\b", words):
            return value
    return None


_SKIP = {"skip", "no", "none", "no thanks", "omitir", "ninguno", "no gracias", "nothing"}


def is_skip(text: str) -> bool:
    """Whether the words decline an optional slot ("skip", "no photo", "omitir")."""
    words = fold(text)
    return words in _SKIP or words in {
        "no photo", "sin foto", "no email", "prefer not", "i don't know", "dont know", "no se",
    }  # fmt: skip


def is_question(text: str) -> bool:
    """Whether the words ask something (then they are no answer to a free-text slot)."""
    words = fold(text)
    starts = (
        "when ", "what ", "where ", "how ", "who ", "why ", "which ", "can i ", "do i ",
        "is my ", "cuando ", "que ", "donde ", "como ", "puedo ", "necesito ",
    )  # fmt: skip
    return text.strip().endswith("?") or text.strip().startswith("¿") or words.startswith(starts)
