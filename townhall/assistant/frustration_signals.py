"""What the assistant tells the frustration index (experience, docs/frustration.md):
a turn it did not understand, a resident's negative tone, a hand-off nobody could answer
(out of hours: left as a message), a report started in the chat and never sent, a chat
the resident left without an answer.

Only ids and labels go with a signal, never the resident's words. Recording never fails a
resident's turn (experience.services_frustration.journey_signal_record_safely).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from townhall.assistant.models import Conversation, Turn
from townhall.experience.frustration import weights_load
from townhall.experience.models import JourneySignal, SignalKind
from townhall.experience.services_frustration import (
    journey_signal_record_safely,
    signals_record_many,
)

# The report skill (skill_report.SKILL): a frame of it left behind is an abandoned form.
REPORT_SKILL = "report_issue"


def turn_signals_record(conv: Conversation, *, tone_score: float, fallback: bool) -> None:
    """After a resident's turn: negative tone (at or above the index's minimum) and a
    fallback (the assistant did not understand)."""
    common = {
        "channel": conv.channel,
        "case_id": conv.case_id,
        "citizen_id": conv.citizen_id,
        "data": {"conversation": conv.pk},
    }
    if tone_score >= weights_load().negative_tone_min:
        journey_signal_record_safely(kind=SignalKind.NEGATIVE_TONE, value=tone_score, **common)
    if fallback:
        journey_signal_record_safely(kind=SignalKind.ASSISTANT_FALLBACK, **common)


def handoff_bounced_record(conv: Conversation, *, reason: str) -> None:
    """The resident asked for a person (or was handed over) and nobody could answer."""
    journey_signal_record_safely(
        kind=SignalKind.BOUNCED_HANDOFF,
        channel=conv.channel,
        case_id=conv.case_id,
        citizen_id=conv.citizen_id,
        data={"conversation": conv.pk, "reason": reason},
    )


def abandoned_reports_record(stale: list[Conversation], *, now: datetime) -> int:
    """Conversations closed idle in the middle of a report: one abandoned form each."""
    rows = [
        JourneySignal(
            kind=SignalKind.ABANDONED_FORM,
            at=now,
            channel=conv.channel,
            case_id=conv.case_id,
            citizen_id=conv.citizen_id,
            data={"conversation": conv.pk, "skill": REPORT_SKILL},
        )
        for conv in stale
    ]
    return signals_record_many(rows)


def abandoned_chats_record(stale: QuerySet[Conversation], *, now: datetime) -> int:
    """Conversations closed idle with no outcome, after the resident wrote at least once,
    other than a report in progress (that is an abandoned form): one "chat left
    unanswered" each (insights' `chats_abandoned`)."""
    left = (
        stale.filter(outcome="", turns__role=Turn.Role.RESIDENT)
        .exclude(state__frame__skill=REPORT_SKILL)
        .distinct()
        .only("pk", "channel", "case", "citizen")
    )
    rows = [
        JourneySignal(
            kind=SignalKind.CHAT_ABANDONED,
            at=now,
            channel=conv.channel,
            case_id=conv.case_id,
            citizen_id=conv.citizen_id,
            data={"conversation": conv.pk},
        )
        for conv in left
    ]
    return signals_record_many(rows)
