"""Find a service from a resident's own words: "rubbish on the pavement" finds illegal dumping.

Each service is indexed by the words of its name, keywords, group and description (folded,
plurals trimmed). A query word scores where it, or a word of the same everyday meaning
(British and American usage, common plain-language names), appears: the best field wins
(name over keywords over group over description), a synonym counts a little less than the
word itself, a near miss in spelling a little less again, and rarer words weigh more. The
catalogue is small (tens of services), so a scan per query costs well under a millisecond.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "at",
        "by",
        "for",
        "from",
        "has",
        "have",
        "i",
        "in",
        "is",
        "it",
        "its",
        "my",
        "of",
        "off",
        "on",
        "or",
        "our",
        "out",
        "the",
        "there",
        "this",
        "to",
        "was",
        "with",
        "near",
        "next",
        "outside",
        "opposite",
        "front",
        "back",
        "side",
        "your",
        "some",
        "lots",
    ]
)

# Everyday words and the words councils use for the same thing. Both directions are added.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "rubbish": ("trash", "garbage", "litter", "dumped", "dumping", "debris", "waste"),
    "flytipping": ("dumping", "dumped"),
    "tipping": ("dumping", "dumped"),
    "tipped": ("dumped", "dumping"),
    "fly": ("dumping",),
    "junk": ("trash", "dumped", "debris"),
    "litter": ("trash", "rubbish"),
    "bin": ("cart", "trash", "can", "basket", "collection"),
    "wheelie": ("cart",),
    "binmen": ("collection", "pickup"),
    "collected": ("pickup", "collection", "picked"),
    "collection": ("pickup",),
    "pavement": ("sidewalk", "roadside"),  # British: the footway, not the road surface
    "footpath": ("sidewalk",),
    "kerb": ("curb",),
    "road": ("street", "roadway"),
    "lamp": ("streetlight", "light"),
    "streetlamp": ("streetlight",),
    "lamppost": ("streetlight", "lamp", "post"),
    "dark": ("light", "streetlight"),
    "broken": ("damaged", "damage"),
    "hole": ("pothole", "crater"),
    "rats": ("rodent", "rodents"),
    "rat": ("rodent", "rodents"),
    "mice": ("rodent", "rodents"),
    "car": ("vehicle",),
    "lorry": ("vehicle", "truck"),
    "dog": ("dogs",),
    "flood": ("flooding", "leak"),
    "flooded": ("flooding",),
    "leaking": ("leak",),
    "drain": ("drains", "catch", "basin"),
    "gully": ("drain", "catch", "basin"),
    "sewage": ("sewer",),
    "smell": ("odor", "odour"),
    "heating": ("heat",),
    "cold": ("heat",),
    "loud": ("noise",),
    "music": ("noise",),
    "needle": ("syringe", "sharps"),
    "tree": ("trees", "limb", "branch"),
    "branch": ("limb", "tree"),
    "paint": ("graffiti",),
    "spray": ("graffiti",),
    "tag": ("graffiti",),
    "bike": ("bicycle",),
    "snow": ("ice", "snowy"),
    "gritting": ("ice", "snow", "sand"),
    "swing": ("playground",),
    "slide": ("playground",),
    "complain": ("complaint",),
    "thanks": ("compliment", "thank"),
    "question": ("enquiry", "inquiry"),
    "inquiry": ("enquiry",),
}
FIELD_WEIGHTS = (("name", 3.0), ("keywords", 2.5), ("group", 1.2), ("description", 1.0))
SYNONYM_FACTOR = 0.8
FUZZY_FACTOR = 0.7
FUZZY_MIN = 86  # rapidfuzz ratio for a spelling slip ("potholle", "graffitti")


def fold(text: str) -> str:
    """Lower-case, accents off, punctuation to spaces."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def stem(word: str) -> str:
    """Trim the plural and possessive endings that separate "potholes" from "pothole"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    return [stem(w) for w in fold(text).split() if w and w not in STOPWORDS]


def _expansions() -> dict[str, set[str]]:
    table: dict[str, set[str]] = {}
    for word, others in SYNONYMS.items():
        for other in others:
            table.setdefault(stem(word), set()).add(stem(other))
            table.setdefault(stem(other), set()).add(stem(word))
    return table


EXPANSIONS = _expansions()


@dataclass(frozen=True)
class Indexed:
    code: str
    fields: tuple[frozenset[str], ...]  # in FIELD_WEIGHTS order
    vocabulary: tuple[str, ...]


@dataclass(frozen=True)
class Found:
    code: str
    score: float


def index_build(services: Iterable[tuple[str, str, Sequence[str], str, str]]) -> list[Indexed]:
    """Index (code, name, keywords, group name, description) tuples."""
    built = []
    for code, name, keywords, group, description in services:
        fields = (
            frozenset(words(name)),
            frozenset(words(" ".join(keywords))),
            frozenset(words(group)),
            frozenset(words(description)),
        )
        built.append(Indexed(code, fields, tuple(sorted(set().union(*fields)))))
    return built


def _hit(term: str, index: Indexed) -> float:
    """Best field weight where `term` appears in `index` (0 if nowhere)."""
    for (_, weight), field in zip(FIELD_WEIGHTS, index.fields, strict=True):
        if term in field:
            return weight
    return 0.0


def search(query: str, index: Sequence[Indexed], *, limit: int = 10) -> list[Found]:
    """Return services matching `query`, best first; empty if no word matched anything."""
    terms = list(dict.fromkeys(words(query)))
    if not terms or not index:
        return []
    vocabulary = sorted({w for item in index for w in item.vocabulary})
    scores: dict[str, float] = {}
    for term in terms:
        # The word itself, its everyday equivalents and, for longer words, spelling slips.
        candidates: dict[str, float] = {term: 1.0}
        for other in EXPANSIONS.get(term, ()):
            candidates.setdefault(other, SYNONYM_FACTOR)
        if len(term) >= 5 and term not in vocabulary:
            for near, _score, _ in process.extract(
                term, vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_MIN, limit=3
            ):
                candidates.setdefault(near, FUZZY_FACTOR)
                for other in EXPANSIONS.get(near, ()):
                    candidates.setdefault(other, FUZZY_FACTOR * SYNONYM_FACTOR)
        per_service = {
            item.code: max((_hit(c, item) * f for c, f in candidates.items()), default=0.0)
            for item in index
        }
        matched = sum(1 for v in per_service.values() if v > 0)
        if not matched:
            continue
        rarity = math.log(1 + len(index) / matched)
        for code, value in per_service.items():
            if value:
                scores[code] = scores.get(code, 0.0) + value * rarity
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return [Found(code, round(score, 4)) for code, score in ranked[:limit]]
