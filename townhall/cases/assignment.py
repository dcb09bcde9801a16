"""Who gets a new case when a department assigns automatically: a pure choice, no database.

Round robin weighted by current open load: among the members who take cases, are not
away, and have the skill for the case's service (a member with no skills listed does every
service of the department), the one with the least open cases per unit of weight wins;
ties go to whoever was given a case longest ago, then to the lowest id (deterministic).
Someone at weight 2 ends up with about twice the open cases of someone at weight 1.
If nobody qualifies, the case stays in the department's queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Candidate:
    user_id: int
    weight: Decimal
    open_load: int
    skills: frozenset[int] = frozenset()  # service type ids; empty: all of the department's
    takes_cases: bool = True
    away_from: datetime | None = None
    away_until: datetime | None = None
    last_assigned_at: datetime | None = None

    def is_away(self, now: datetime) -> bool:
        if self.away_from is None and self.away_until is None:
            return False
        started = self.away_from is None or self.away_from <= now
        not_back = self.away_until is None or now < self.away_until
        return started and not_back

    def can_do(self, service_type_id: int) -> bool:
        return not self.skills or service_type_id in self.skills


def assignee_pick(
    candidates: Iterable[Candidate], *, service_type_id: int, now: datetime
) -> Candidate | None:
    """The member who should get a new case of `service_type_id`, or None."""
    eligible = [
        c
        for c in candidates
        if c.takes_cases and c.weight > 0 and not c.is_away(now) and c.can_do(service_type_id)
    ]
    if not eligible:
        return None

    def key(c: Candidate) -> tuple[Decimal, float, int]:
        last = c.last_assigned_at.timestamp() if c.last_assigned_at else float("-inf")
        return (Decimal(c.open_load + 1) / c.weight, last, c.user_id)

    return min(eligible, key=key)
