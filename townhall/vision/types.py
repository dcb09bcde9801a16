"""The contract the rest of Townhall uses: what a photo shows, and what it suggests filing."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TagGuess:
    """One thing a photo seems to show, e.g. tag "mattress" at confidence 0.83.

    `service_code` is the council's service type that tag maps to (None when the tag maps to
    none, or to a service that is not active).
    """

    tag: str
    label: str  # what staff and residents read, translated ("Mattress")
    confidence: float  # 0..1, calibrated enough to threshold
    service_code: str | None


@dataclass(frozen=True)
class ServiceProposal:
    """What to suggest filing from a photo: "looks like a dumped mattress, report fly-tipping?"."""

    service_code: str
    service_name: str
    tag: str
    label: str
    confidence: float
