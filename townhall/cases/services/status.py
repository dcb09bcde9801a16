"""Moving a case through its lifecycle (`cases.lifecycle`), by staff or, for "not fixed",
by the resident."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from townhall.cases.errors import InvalidCaseInput, InvalidMerge
from townhall.cases.lifecycle import (
    FINISHED_STATUSES,
    PAUSED_STATUSES,
    CaseStatus,
    transition_check,
)
from townhall.cases.models import Case, CaseEventKind
from townhall.cases.services.chain import Actor, CaseChange, case_change, iso
from townhall.cases.services.deadlines import case_sla, sla_columns
from townhall.cases.services.opening import public_text_of
from townhall.cases.sla import SlaState
from townhall.core import clock
from townhall.people.models import Channel


def case_transition(
    *,
    case: Case,
    to: CaseStatus | str,
    actor: Actor,
    note: str = "",
    channel: str = Channel.STAFF,
    now: datetime | None = None,
) -> Case:
    """Move a case to status `to`, pausing or resuming its SLA clock as the status requires.

    `note` is shown to the resident with the change. Raise InvalidTransition if the
    lifecycle table forbids the move; use `case_merge` to mark a duplicate.
    """
    target = CaseStatus(to)
    if target == CaseStatus.DUPLICATE:
        raise InvalidMerge(_("Mark a duplicate by merging it into the case it repeats."))
    at = now or clock.now()
    with case_change(case.pk, at=at, actor=actor, channel=channel, refresh=case) as change:
        locked = change.case
        source = CaseStatus(locked.status)
        transition_check(source, target)
        clock_events = _sla_follow_status(change, source, target)
        if target == CaseStatus.ACKNOWLEDGED and locked.acknowledged_at is None:
            change.set(acknowledged_at=at)
        if target == CaseStatus.RESOLVED or target == CaseStatus.REJECTED:
            change.set(resolved_at=at)
        if target == CaseStatus.CLOSED:
            change.set(closed_at=at)
        change.set(status=target)
        change.append(
            CaseEventKind.REOPENED
            if target == CaseStatus.REOPENED
            else CaseEventKind.STATUS_CHANGED,
            {"from": source.value, "to": target.value, "note": note.strip()},
            public=True,
        )
        for kind, data in clock_events:
            change.append(kind, data)
    return case


def _sla_follow_status(
    change: CaseChange, source: CaseStatus, target: CaseStatus
) -> list[tuple[CaseEventKind, dict[str, Any]]]:
    """Set the SLA fields a move from `source` to `target` changes; return the clock events
    (PAUSED, RESUMED) to record after the status change itself.

    Reopening clears the finish and the breach and makes a fresh promise counted from the
    reopening; entering a paused status pauses a running clock; leaving one resumes it.
    """
    locked, at = change.case, change.at
    sla = case_sla(locked)
    if target == CaseStatus.REOPENED:
        change.set(resolved_at=None, closed_at=None, breached_at=None)
        if sla is not None:
            change.set(**sla_columns(sla, sla.start(at)))
        return []
    was_paused, now_paused = source in PAUSED_STATUSES, target in PAUSED_STATUSES
    if sla is None or was_paused == now_paused or target in FINISHED_STATUSES:
        return []
    state = SlaState(due_at=locked.due_at, paused_remaining=locked.sla_paused_remaining)
    if now_paused and state.due_at is not None:
        change.set(**sla_columns(sla, sla.pause(state, at)))
        remaining = locked.sla_paused_remaining
        return [(CaseEventKind.PAUSED, {"remaining_s": _seconds(remaining)})]
    if was_paused and state.paused_remaining is not None:
        change.set(**sla_columns(sla, sla.resume(state, at)))
        return [(CaseEventKind.RESUMED, {"due_at": iso(locked.due_at)})]
    return []


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def case_reopen_window_open(case: Case, *, now: datetime | None = None) -> bool:
    """True if a resident may still say "not fixed" about `case`."""
    if case.status != CaseStatus.RESOLVED or case.resolved_at is None:
        return False
    limit = timedelta(days=settings.TOWNHALL_REOPEN_DAYS)
    return (now or clock.now()) - case.resolved_at <= limit


def case_reopen_by_resident(
    *, case: Case, reason: str, channel: str = Channel.WEB, now: datetime | None = None
) -> Case:
    """Reopen a resolved case because the resident says it is not fixed.

    Allowed within TOWNHALL_REOPEN_DAYS of the resolution; the reason is required and
    goes on the case's public history (personal details masked: the history is public),
    where staff see it in the reopened queue. Raise InvalidCaseInput otherwise.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidCaseInput(
            _("Tell us what is still wrong."),
            details={"reason": [_("Tell us what is still wrong.")]},
        )
    if len(reason) > 2000:
        raise InvalidCaseInput(
            _("That is too long."), details={"reason": [_("Keep it under 2,000 characters.")]}
        )
    if not case_reopen_window_open(case, now=now):
        raise InvalidCaseInput(
            _("This request can no longer be reopened online."),
            details={
                "reason": [
                    _("This request can no longer be reopened online: please report it again.")
                ]
            },
        )
    return case_transition(
        case=case,
        to=CaseStatus.REOPENED,
        actor=None,
        note=public_text_of(reason),
        channel=channel,
        now=now,
    )
