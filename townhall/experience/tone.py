"""How frustrated a resident sounds: text (VADER plus council words) and behaviour.

Nine signals, each 0..1, combined by a logistic model whose weights were fitted on
labelled turns (`data/tone_labels*.jsonl`, `python bench/tone.py fit`) and stored in
`data/tone_weights.yaml` with the hand-off threshold (best out-of-fold F1). Measured on
turns the fit never saw, against VADER alone: docs/benchmarks.md, "Assistant: frustration"
(in short: precise, but on wording the word list lacks it finds about a third of
frustrated residents; behaviour signals carry the hand-off).

- `vader`: how negative the text is to VADER (English only: -compound, floored at 0);
- `words`: the council's complaint vocabulary in English and Spanish ("third time",
  "ombudsman", "todavía no"...), which VADER does not know;
- `rephrase`: how close the message is to one the resident already sent (they are
  repeating themselves because they were not understood);
- `fallbacks`: how many times in a row the assistant did not understand;
- `caps`: SHOUTING, the share of capitals among letters;
- `punct`: repeated "!!!" or "???";
- `person`: an explicit "let me speak to a person";
- `waiting`: how long they have waited ("three weeks", "since March", "desde hace");
- `blame`: VADER's negativity when the message is aimed at "you" (the council, the bot).

Pure Python over a couple of regular expressions: tens of thousands of messages a second.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from rapidfuzz import fuzz
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

DATA = Path(__file__).with_name("data")
FEATURES = (
    "vader",
    "words",
    "rephrase",
    "fallbacks",
    "caps",
    "punct",
    "person",
    "waiting",
    "blame",
)

_PERSON = re.compile(
    r"\b(?:(?:speak|talk|chat)\s+(?:to|with)\s+(?:a\s+|an\s+|some\s*one|somebody|"
    r"a\s+real\s+|real\s+)?(?:person|human|agent|someone|somebody|operator|"
    r"representative|staff|officer|manager|people)"
    r"|real\s+(?:person|human)|human\s+being|(?:an?\s+)?(?:operator|representative)\b"
    r"|hablar\s+con\s+(?:una\s+persona|alguien|un\s+agente|un\s+humano|una\s+humana|"
    r"un\s+operador|una\s+operadora|un\s+empleado|una\s+empleada|el\s+encargado)"
    r"|persona\s+real|ser\s+humano|un\s+humano)\b"
)
# How long they have waited: "three weeks", "since March", "6 months", "desde hace".
_NUMBER = (
    r"(?:\d+|a|an|one|two|three|four|five|six|several|many|few|couple of"
    r"|un|una|dos|tres|cuatro|cinco|seis|varias|varios|muchas|muchos)"
)
_UNIT = r"(?:hours?|days?|weeks?|months?|years?|fortnights?|horas?|dias?|semanas?|mes|meses|anos?)"
_WAITING = re.compile(
    rf"\b{_NUMBER}\s+{_UNIT}\b"
    r"|\bfortnight\b|\bdesde hace\b|\bllevo\b"
    r"|\bsince (?:last|january|february|march|april|may|june|july|august|september|october"
    r"|november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|then)\b"
)
# Negative words aimed at the council or the assistant: "you", "your", "you lot", "ustedes".
_YOU = re.compile(r"\b(?:you|your|yours|you'?re|ustedes|usted|vosotros|os)\b")
_PUNCT = re.compile(r"[!?]{2,}|[!?](?:\s*[!?]){2,}")
_LETTER = re.compile(r"[^\W\d_]")
_UPPER_WORD = re.compile(r"\b[^\W\d_a-z]{2,}\b")


@dataclass(frozen=True)
class ToneModel:
    bias: float
    weights: tuple[float, ...]  # in FEATURES order

    def score(self, features: Sequence[float]) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, features, strict=True))
        return 1.0 / (1.0 + math.exp(-z))


def fold(text: str) -> str:
    """Lower case without accents: "Todavía NO" and "todavia no" match the same entry."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


@cache
def _words() -> tuple[re.Pattern[str], dict[str, float]]:
    raw = yaml.safe_load((DATA / "council_tone_words.yaml").read_text(encoding="utf-8"))
    weights: dict[str, float] = {}
    for entries in raw.values():
        for phrase, weight in (entries or {}).items():
            key = fold(str(phrase))
            weights[key] = max(weights.get(key, 0.0), float(weight))
    # Longest first, so "absolute joke" wins over "joke".
    alternatives = sorted(weights, key=len, reverse=True)
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in alternatives) + r")\b")
    return pattern, weights


@cache
def tone_model() -> ToneModel:
    raw = yaml.safe_load((DATA / "tone_weights.yaml").read_text(encoding="utf-8"))
    return ToneModel(
        bias=float(raw["bias"]),
        weights=tuple(float(raw["weights"][name]) for name in FEATURES),
    )


def tone_threshold() -> float:
    """The hand-off threshold chosen with the weights (a default for
    `TOWNHALL_ASSISTANT_HANDOFF_THRESHOLD`)."""
    raw = yaml.safe_load((DATA / "tone_weights.yaml").read_text(encoding="utf-8"))
    return float(raw["threshold"])


def tone_features(
    text: str, *, previous: Sequence[str] = (), fallbacks: int = 0
) -> tuple[float, ...]:
    """The signals of `text`, each 0..1, in FEATURES order."""
    text = text[:2000]  # a pasted essay costs no more than a long message
    folded = fold(text)
    vader = max(0.0, -_analyzer().polarity_scores(text)["compound"])
    pattern, weights = _words()
    words = min(1.0, sum(weights[m] for m in pattern.findall(folded)) / 2.0)
    rephrase = 0.0
    if len(folded) >= 8:
        for earlier in previous[-3:]:
            # Word order ignored, added words counted: "and when is the recycling collected"
            # after "when is my bin day" is a new question, not the same one again.
            similar = fuzz.token_sort_ratio(folded, fold(earlier[:2000])) / 100.0
            rephrase = max(rephrase, (similar - 0.5) / 0.5)
    letters = _LETTER.findall(text)
    caps = 0.0
    if len(letters) >= 8:
        upper = sum(len(w) for w in _UPPER_WORD.findall(text))
        caps = upper / len(letters)
    punct = 1.0 if _PUNCT.search(text) else 0.0
    person = 1.0 if _PERSON.search(folded) else 0.0
    waiting = 1.0 if _WAITING.search(folded) else 0.0
    blame = vader if _YOU.search(folded) else 0.0
    return (
        vader,
        words,
        rephrase,
        min(max(fallbacks, 0), 3) / 3.0,
        caps,
        punct,
        person,
        waiting,
        blame,
    )


def frustration_score(text: str, *, previous: Sequence[str] = (), fallbacks: int = 0) -> float:
    """0 (calm) .. 1 (very frustrated): the fitted model over `tone_features`.

    `previous` are the resident's earlier messages in the conversation (oldest first);
    `fallbacks` how many times in a row the assistant has just failed to understand.
    """
    return tone_model().score(tone_features(text, previous=previous, fallbacks=fallbacks))
