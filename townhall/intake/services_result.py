"""What the intake pipeline made of a message (IntakeResult), and the step that records it."""

from __future__ import annotations

from dataclasses import dataclass, field

from townhall.cases.models import Case
from townhall.core import clock
from townhall.intake.models import (
    InboundMessage,
)
from townhall.people.models import Channel

# Channels where nobody chose a service or saw the nearby reports before sending.
ASYNC_CHANNELS = frozenset({Channel.EMAIL, Channel.SMS, Channel.SOCIAL})
RAW_MAX = 1_000_000  # characters of raw payload kept inline; attachments are files
TEXT_MAX = 10_000


@dataclass
class IntakeResult:
    message: InboundMessage
    case: Case | None = None
    reply: str = ""
    suggestions: list[tuple[str, float]] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        return self.message.outcome


def _finish(
    inbound: InboundMessage,
    outcome: str,
    *,
    case: Case | None = None,
    reason: str = "",
    reply: str = "",
    suggestions: list[tuple[str, float]] | None = None,
) -> IntakeResult:
    inbound.outcome = outcome
    inbound.case = case
    inbound.reason = reason[:300]
    inbound.processed_at = clock.now()
    if inbound.pk is None:
        inbound.save(force_insert=True)
    else:
        inbound.save(
            update_fields=["outcome", "case", "reason", "processed_at", "citizen", "triage"]
        )
    return IntakeResult(message=inbound, case=case, reply=reply, suggestions=suggestions or [])
