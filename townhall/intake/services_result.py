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


def _outcome_set(
    inbound: InboundMessage, outcome: str, *, case: Case | None = None, reason: str = ""
) -> None:
    inbound.outcome = outcome
    inbound.case = case
    inbound.reason = reason[:300]
    inbound.processed_at = clock.now()


def _finish(
    inbound: InboundMessage,
    outcome: str,
    *,
    case: Case | None = None,
    reason: str = "",
    reply: str = "",
    suggestions: list[tuple[str, float]] | None = None,
    written: bool = False,
) -> IntakeResult:
    """Record what became of the message; `written`: it was already stored with its
    outcome, together with the case it opened (`_outcome_set`, `case_open(with_rows=…)`)."""
    if written:
        return IntakeResult(message=inbound, case=case, reply=reply, suggestions=suggestions or [])
    _outcome_set(inbound, outcome, case=case, reason=reason)
    if inbound.pk is None:
        inbound.save(force_insert=True)
    else:
        inbound.save(
            update_fields=[
                "outcome",
                "case",
                "reason",
                "processed_at",
                "citizen",
                "triage",
                "suggestions_pending",
            ]
        )
    return IntakeResult(message=inbound, case=case, reply=reply, suggestions=suggestions or [])
