"""Text analysis for BM25, per language: word tokens, that language's stop words, its
Snowball stemmer (PyStemmer), accents folded last.

An article is analysed in its own language and a query in the reader's, so "recogida" and
"recogidas" meet, and Spanish "de", "la", "que" no longer count as rare words (before issue
16 every text went through English stop words and no stemming). Stemming runs before accent
folding because the Snowball rules read accents ("días" and "dias" both end as "dias").
A language without a stemmer or list is still tokenised and folded.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)

# The English list measured with the hybrid fusion weights (docs/knowledge.md): short, so
# that words such as "not", "no" and "out" ("light out") still count.
ENGLISH_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "should",
        "so",
        "that",
        "the",
        "their",
        "there",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)
# Spanish the same way: articles, prepositions, conjunctions, pronouns and question words;
# not "no" ("recogida no realizada") nor the forms of estar/tener that the long lists drop
# ("estado" of a request). Compared on folded forms, so "qué" and "que" are both dropped.
SPANISH_STOPWORDS = frozenset(
    [
        "a",
        "al",
        "algo",
        "como",
        "con",
        "cual",
        "cuales",
        "cuando",
        "de",
        "del",
        "donde",
        "e",
        "el",
        "ella",
        "en",
        "es",
        "esa",
        "ese",
        "eso",
        "esta",
        "este",
        "esto",
        "hay",
        "la",
        "las",
        "le",
        "les",
        "lo",
        "los",
        "me",
        "mi",
        "mis",
        "nos",
        "o",
        "os",
        "para",
        "pero",
        "por",
        "que",
        "se",
        "si",
        "sin",
        "su",
        "sus",
        "te",
        "tu",
        "tus",
        "u",
        "un",
        "una",
        "unas",
        "uno",
        "unos",
        "usted",
        "ustedes",
        "vosotros",
        "y",
        "ya",
        "yo",
    ]
)
# Language code -> (Snowball algorithm, bm25s stop-word list name or None).
LANGUAGES: dict[str, tuple[str, str | None]] = {
    "en": ("english", None),
    "es": ("spanish", None),
    "fr": ("french", "STOPWORDS_FRENCH"),
    "de": ("german", "STOPWORDS_GERMAN"),
    "it": ("italian", "STOPWORDS_ITALIAN"),
    "pt": ("portuguese", "STOPWORDS_PORTUGUESE"),
    "nl": ("dutch", "STOPWORDS_DUTCH"),
    "sv": ("swedish", "STOPWORDS_SWEDISH"),
    "da": ("danish", "STOPWORDS_DANISH"),
    "nb": ("norwegian", "STOPWORDS_NORWEGIAN"),
    "pl": ("polish", None),
    "ca": ("catalan", None),
}

Analyser = Callable[[str], list[str]]


def fold(word: str) -> str:
    """`word` without accents ("días" -> "dias")."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _stopwords(language: str) -> frozenset[str]:
    if language == "en":
        return ENGLISH_STOPWORDS
    if language == "es":
        return SPANISH_STOPWORDS
    listed = LANGUAGES.get(language, ("", None))[1]
    if listed is None:
        return frozenset()
    import bm25s.stopwords

    words = getattr(bm25s.stopwords, listed)
    return frozenset(fold(w.lower()) for w in words)


def _stemmer(language: str) -> Any:
    algorithm = LANGUAGES.get(language, ("", None))[0]
    if not algorithm:
        return None
    import Stemmer  # PyStemmer

    return Stemmer.Stemmer(algorithm)


def language_base(language: str | None) -> str:
    """ "es" for "es", "es-ES" or "es_MX"; "" for none."""
    return (language or "").replace("_", "-").split("-")[0].lower()


@functools.cache
def analyser_for(language: str) -> Analyser:
    """The analyser of `language` (a code such as "es" or "en-gb"); cached per language."""
    base = language_base(language)
    stopwords = _stopwords(base)
    stemmer = _stemmer(base)

    def analyse(text: str) -> list[str]:
        kept = [t for t in _TOKEN.findall(text.lower()) if fold(t) not in stopwords]
        stemmed = stemmer.stemWords(kept) if stemmer is not None else kept
        return [fold(t) for t in stemmed]

    return analyse


def english_unstemmed(text: str) -> list[str]:
    """The analysis before issue 16 for every language: English stop words, no stemming.
    Kept to measure against (bench/knowledge_languages.py)."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in ENGLISH_STOPWORDS]
