"""Address text folded for matching: a pure function, no database."""

from __future__ import annotations

import re
import unicodedata

# Street words as people abbreviate them, spelled out (US and UK usage).
ABBREVIATIONS = {
    "st": "street",
    "str": "street",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "ln": "lane",
    "dr": "drive",
    "ct": "court",
    "pl": "place",
    "sq": "square",
    "blvd": "boulevard",
    "pkwy": "parkway",
    "hwy": "highway",
    "ter": "terrace",
    "terr": "terrace",
    "cres": "crescent",
    "cl": "close",
    "gdns": "gardens",
    "mt": "mount",
    "n": "north",
    "s": "south",
    "e": "east",
    "w": "west",
    "apt": "apartment",
    "flr": "floor",
}
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def address_fold(text: str) -> str:
    """Return `text` lower-cased, without accents or punctuation, abbreviations spelled out:
    "12, Elm St." and "12 elm street" both give "12 elm street"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = _NOT_WORD.sub(" ", plain).split()
    return " ".join(ABBREVIATIONS.get(word, word) for word in words)


def house_number(folded: str) -> str | None:
    """Return the leading house number of a folded address or query ("12a elm street" → "12a")."""
    first = folded.split(" ", 1)[0] if folded else ""
    return first if first[:1].isdigit() else None
