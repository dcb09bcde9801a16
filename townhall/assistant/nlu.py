"""Understanding: which skill a message is for, how sure, and the entities in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Candidate:
    skill: str
    score: float  # similarity-like, higher is better, comparable to the thresholds


@dataclass(frozen=True)
class Understanding:
    skill: str  # the chosen skill, or "out_of_scope"
    confidence: float
    candidates: tuple[Candidate, ...] = ()  # best first, at most a few
    # True when the top two skills are too close to choose: ask a clarifying question.
    ambiguous: bool = False
    # entity name -> value: address (Place id and label), date, reference, stream, service...
    entities: dict[str, Any] = field(default_factory=dict)


def understand(text: str, *, language: str = "en") -> Understanding:
    """Skeleton: the understanding module replaces this."""
    return Understanding(skill="out_of_scope", confidence=0.0)
