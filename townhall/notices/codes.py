"""Batch and lot codes: one normal form for what staff import and what residents type or
scan, and the order-free digest of a recall's codes that its event chain carries."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

# What a resident may send at all (before normalising): a code, not a document.
MAX_INPUT = 200
MAX_CODE = 64
# Spaces and dashes of every kind (hyphen, non-breaking, figure, en, em), _ . / :
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2014_./:]+")
_CODE = re.compile(r"[A-Z0-9]{1,64}")
ZERO_SUM = "0" * 64
_MOD = 2**256


class InvalidCode(ValueError):
    """The text is not a batch code; the message says why, in words a resident can act on,
    and `reason` ("empty", "too_long", "characters") lets a face say it in its language."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def code_normalise(raw: str) -> str:
    """Return the code's normal form: compatibility characters folded (full-width
    digits), upper case, spaces, dashes, dots, slashes and underscores removed.

    Raise InvalidCode for empty text, text too long, or characters other than letters and
    digits (a code printed on a pack has no others).
    """
    if len(raw) > MAX_INPUT:
        raise InvalidCode(
            "too_long", f"That is too long for a batch code (at most {MAX_CODE} characters)."
        )
    folded = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw).upper())
    if not folded:
        raise InvalidCode("empty", "Enter the batch or lot code printed on the product.")
    if len(folded) > MAX_CODE:
        raise InvalidCode(
            "too_long", f"That is too long for a batch code (at most {MAX_CODE} characters)."
        )
    if not _CODE.fullmatch(folded):
        raise InvalidCode(
            "characters", "A batch code has only letters and numbers. Check it and try again."
        )
    return folded


def code_value(code: str) -> int:
    """The code's SHA-256 as a number (its share of the recall's digest)."""
    return int.from_bytes(hashlib.sha256(code.encode()).digest(), "big")


def codes_sum(codes: Iterable[str], start: str = ZERO_SUM) -> str:
    """Add the codes' SHA-256s to `start` modulo 2**256; return it as 64 hex digits.

    The sum of a set does not depend on the order its codes were added in, so the
    verifier recomputes it from the stored codes in any order."""
    total = int(start, 16)
    for code in codes:
        total = (total + code_value(code)) % _MOD
    return f"{total:064x}"
