"""A case's SLA: which one it is held to, how a clock state lands on the case row, and the
staff changes that move its promise (priority, due date)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from townhall.cases.errors import InvalidCaseInput
from townhall.cases.lifecycle import OPEN_STATUSES, PAUSED_STATUSES
from townhall.cases.models import Case, CaseEventKind
from townhall.cases.services.chain import Actor, case_change, iso
from townhall.cases.sla import CaseSla, SlaClock, SlaState, SlaTarget
from townhall.catalog.models import Priority
from townhall.catalog.selectors import sla_terms_for, working_calendar_for
from townhall.core import clock


def case_sla(case: Case) -> CaseSla | None:
    """The SLA `case` is held to at its current service and priority; None if it has none."""
    terms = sla_terms_for(service_type_id=case.service_type_id, priority=case.priority)
    if terms is None:
        return None
    target = SlaTarget(
        target=timedelta(hours=float(Decimal(terms.target_hours))), clock=SlaClock(terms.clock)
    )
    return CaseSla(target=target, calendar=working_calendar_for(department=case.department))


def sla_columns(sla: CaseSla, state: SlaState) -> dict[str, Any]:
    """The case fields that store `state`: due date, paused remainder and, when the clock
    runs, the date promised to the resident (a paused clock keeps the date last promised)."""
    columns: dict[str, Any] = {
        "due_at": state.due_at,
        "sla_paused_remaining": state.paused_remaining,
    }
    if state.due_at is not None:
        columns["expected_on"] = state.due_at.astimezone(sla.calendar.tz).date()
    return columns


def case_priority_change(
    *, case: Case, priority: str, actor: Actor, now: datetime | None = None
) -> Case:
    """Change a case's priority; its promise restarts at the new priority's SLA target.

    A running clock gets a new due date counted from now; a paused one keeps waiting with
    the full new target left. Raise InvalidCaseInput for an unknown priority or a
    finished case.
    """
    if priority not in Priority.values:
        raise InvalidCaseInput(
            _("Unknown priority."),
            details={"priority": [_("Choose one of %(choices)s.") % {"choices": Priority.values}]},
        )
    at = now or clock.now()
    with case_change(case.pk, at=at, actor=actor, refresh=case) as change:
        locked = change.case
        if locked.status not in OPEN_STATUSES:
            raise InvalidCaseInput(
                _("Only open cases can change priority."),
                details={"priority": [_("The case is finished.")]},
            )
        previous = locked.priority
        change.set(priority=priority)
        sla = case_sla(locked)
        if sla is not None:
            state = sla.start(at)
            if locked.status in PAUSED_STATUSES:
                state = SlaState(due_at=None, paused_remaining=sla.target.target)
            change.set(breached_at=None, **sla_columns(sla, state))
        change.append(
            CaseEventKind.PRIORITY_CHANGED,
            {"from": previous, "to": priority, "due_at": iso(locked.due_at)},
        )
    return case


def case_due_change(
    *, case: Case, due_at: datetime, reason: str, actor: Actor, now: datetime | None = None
) -> Case:
    """Move a running case's due date (a supervisor's decision), with the reason on record.

    The resident's expected date follows, and they see the new date (not the reason).
    Raise InvalidCaseInput for a finished or paused case, a date in the past or no reason.
    """
    at = now or clock.now()
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = [_("Say why the date changes.")]
    if due_at <= at:
        errors["due_at"] = [_("Choose a date and time in the future.")]
    if errors:
        raise InvalidCaseInput(_("The due date could not be changed."), details=errors)
    with case_change(case.pk, at=at, actor=actor, refresh=case) as change:
        locked = change.case
        if locked.status not in OPEN_STATUSES or locked.status in PAUSED_STATUSES:
            raise InvalidCaseInput(
                _("The due date could not be changed."),
                details={"due_at": [_("Only a running case has a due date to move.")]},
            )
        previous = locked.due_at
        sla = case_sla(locked)
        tz = sla.calendar.tz if sla is not None else due_at.tzinfo
        expected_on = due_at.astimezone(tz).date()
        change.set(due_at=due_at, expected_on=expected_on, breached_at=None)
        change.append(
            CaseEventKind.DUE_CHANGED,
            {
                "from": iso(previous),
                "to": iso(due_at),
                "expected_on": expected_on.isoformat(),
                "reason": reason.strip(),
            },
            public=True,
        )
    return case
