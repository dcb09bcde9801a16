"""The frustration index: a transparent score from the signals of a journey going wrong.

    score = sum over signals of weight x min(value, cap)

Each signal's value is in its own unit (days past the promised date, a count of reopenings,
the summed tone of negative messages...); weights and caps live in
`data/frustration_weights.yaml`. Every contribution is kept with a sentence a supervisor
(or the resident) can read, so the number is never a black box. Pure: no database here;
`selectors_frustration` gathers the values, `services_frustration` stores and acts.

Documented with worked examples in docs/frustration.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

DATA = Path(__file__).with_name("data")

# In the order contributions are shown when their points tie.
SIGNALS = (
    "waited",
    "reopened",
    "transferred",
    "repeat_contact",
    "bounced_handoff",
    "negative_tone",
    "abandoned_form",
    "assistant_fallback",
    "chat_abandoned",
)


@dataclass(frozen=True)
class SignalWeight:
    weight: float
    cap: float


@dataclass(frozen=True)
class Weights:
    signals: Mapping[str, SignalWeight]
    negative_tone_min: float
    journey_days: int


@dataclass(frozen=True)
class Contribution:
    signal: str
    value: float  # in the signal's unit, before the cap
    weight: float
    points: float  # weight x min(value, cap)
    why: str  # "waited 12 days past the promised date"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FrustrationIndex:
    score: float
    contributions: tuple[Contribution, ...]  # biggest first; only signals that are present

    def as_list(self) -> list[dict[str, Any]]:
        return [c.as_dict() for c in self.contributions]


def weights_parse(raw: Mapping[str, Any]) -> Weights:
    """Weights from their YAML form; ValueError if a signal is missing or out of range."""
    signals = raw.get("signals") or {}
    parsed: dict[str, SignalWeight] = {}
    for name in SIGNALS:
        entry = signals.get(name)
        if not isinstance(entry, Mapping):
            raise ValueError(f"frustration weights: no entry for {name!r}")
        weight, cap = float(entry["weight"]), float(entry["cap"])
        if weight < 0 or cap <= 0:
            raise ValueError(f"frustration weights: {name!r} needs weight >= 0 and cap > 0")
        parsed[name] = SignalWeight(weight=weight, cap=cap)
    unknown = set(signals) - set(SIGNALS)
    if unknown:
        raise ValueError(f"frustration weights: unknown signals {sorted(unknown)}")
    tone_min = float(raw.get("negative_tone_min", 0.5))
    if not 0 <= tone_min <= 1:
        raise ValueError("frustration weights: negative_tone_min must be between 0 and 1")
    return Weights(
        signals=parsed, negative_tone_min=tone_min, journey_days=int(raw.get("journey_days", 30))
    )


@cache
def weights_load() -> Weights:
    """The configured weights (data/frustration_weights.yaml), read once."""
    raw = yaml.safe_load((DATA / "frustration_weights.yaml").read_text(encoding="utf-8"))
    return weights_parse(raw)


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def signal_sentence(signal: str, value: float) -> str:
    """What the value of `signal` means, in words (for the supervisor's breakdown)."""
    n = round(value) if signal != "waited" and signal != "negative_tone" else 0
    if signal == "waited":
        days = _number(round(value, 1))
        return _("waited %(days)s days past the promised date") % {"days": days}
    if signal == "negative_tone":
        return _("negative tone in messages (summed tone %(tone)s)") % {"tone": f"{value:.2f}"}
    sentences = {
        "reopened": ngettext("reopened once", "reopened %(n)s times", n),
        "transferred": ngettext(
            "transferred to another department once",
            "transferred between departments %(n)s times",
            n,
        ),
        "repeat_contact": ngettext(
            "contacted us again about the same thing once",
            "contacted us again about the same thing %(n)s times",
            n,
        ),
        "bounced_handoff": ngettext(
            "asked for a person and nobody answered once",
            "asked for a person and nobody answered %(n)s times",
            n,
        ),
        "abandoned_form": ngettext(
            "started a report and did not send it once",
            "started a report and did not send it %(n)s times",
            n,
        ),
        "assistant_fallback": ngettext(
            "the assistant did not understand once",
            "the assistant did not understand %(n)s times",
            n,
        ),
        "chat_abandoned": ngettext(
            "left a chat nobody answered once",
            "left a chat nobody answered %(n)s times",
            n,
        ),
    }
    return sentences[signal] % {"n": n}


def frustration_index(
    values: Mapping[str, float], weights: Weights | None = None
) -> FrustrationIndex:
    """The score of `values` (signal -> value in its unit) and each signal's contribution.

    Signals absent, zero or negative contribute nothing and are not listed; an unknown
    signal is a programming error (KeyError). Points and the score are rounded to 3 places.
    """
    weights = weights or weights_load()
    contributions: list[Contribution] = []
    for signal, raw in values.items():
        spec = weights.signals[signal]
        value = float(raw)
        if value <= 0:
            continue
        points = round(spec.weight * min(value, spec.cap), 3)
        contributions.append(
            Contribution(
                signal=signal,
                value=round(value, 3),
                weight=spec.weight,
                points=points,
                why=signal_sentence(signal, value),
            )
        )
    contributions.sort(key=lambda c: (-c.points, SIGNALS.index(c.signal)))
    score = round(sum(c.points for c in contributions), 3)
    return FrustrationIndex(score=score, contributions=tuple(contributions))
