"""How frustrated a resident sounds: text (VADER plus council words) and behaviour."""

from __future__ import annotations

from collections.abc import Sequence


def frustration_score(text: str, *, previous: Sequence[str] = (), fallbacks: int = 0) -> float:
    """0 (calm) .. 1 (very frustrated). Skeleton: the tone module replaces this."""
    return 0.0
