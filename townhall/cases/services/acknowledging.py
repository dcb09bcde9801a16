"""Acknowledging new cases, and giving them to a member where the department assigns
automatically.

New cases wait in the cases table itself (status NEW) for `case_acknowledge_pending`,
which one pending task runs for a whole burst of openings and the scheduler also runs
periodically, so a crash between commit and enqueue loses nothing.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count

from townhall.cases.assignment import Candidate, assignee_pick
from townhall.cases.lifecycle import OPEN_STATUSES, CaseStatus
from townhall.cases.models import Case, CaseEventKind
from townhall.cases.services.chain import CaseChange, case_change
from townhall.catalog.models import DepartmentMember
from townhall.core import clock


def case_acknowledge(*, case_id: int, now: datetime | None = None) -> bool:
    """Acknowledge a new case, confirming its expected date; return False if already done.

    Safe to run twice: a case that is no longer NEW is left alone.
    """
    at = now or clock.now()
    with case_change(case_id, at=at, actor=None) as change:
        case = change.case
        if case.status != CaseStatus.NEW:
            return False
        change.set(status=CaseStatus.ACKNOWLEDGED, acknowledged_at=at)
        change.append(
            CaseEventKind.ACKNOWLEDGED,
            {"expected_on": case.expected_on.isoformat() if case.expected_on else None},
            public=True,
            channel=case.channel,
        )
        if case.assignee_id is None:
            _auto_assign(change)
    return True


def _auto_assign(change: CaseChange) -> None:
    """Give the changed case to a member if its department assigns automatically.

    The department's member rows are locked while choosing, so two cases acknowledged at
    once do not both go to the same "least loaded" person.
    """
    case, at = change.case, change.at
    members = list(
        DepartmentMember.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(
            department_id=case.department_id,
            department__auto_assign=True,
            takes_cases=True,
            user__is_active=True,
        )
        .order_by("pk")
    )
    if not members:
        return
    chosen = assignee_pick(_candidates(members), service_type_id=case.service_type_id, now=at)
    if chosen is None:
        return
    member = next(m for m in members if m.user_id == chosen.user_id)
    member.last_assigned_at = at
    member.save(update_fields=["last_assigned_at"])
    change.set(assignee_id=chosen.user_id)
    change.append(
        CaseEventKind.ASSIGNED,
        {
            "from": None,
            "to": chosen.user_id,
            "to_label": member.user.get_username(),
            "rule": "auto",
        },
    )


def _candidates(members: list[DepartmentMember]) -> list[Candidate]:
    """The members as `assignee_pick` weighs them: skills, and open cases each holds now."""
    skills: dict[int, set[int]] = {}
    for member_id, service_id in DepartmentMember.skills.through.objects.filter(
        departmentmember_id__in=[m.pk for m in members]
    ).values_list("departmentmember_id", "servicetype_id"):
        skills.setdefault(member_id, set()).add(service_id)
    loads = dict(
        Case.objects.filter(status__in=OPEN_STATUSES, assignee_id__in=[m.user_id for m in members])
        .values_list("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )
    return [
        Candidate(
            user_id=m.user_id,
            weight=m.weight,
            open_load=loads.get(m.user_id, 0),
            skills=frozenset(skills.get(m.pk, ())),
            takes_cases=m.takes_cases,
            away_from=m.away_from,
            away_until=m.away_until,
            last_assigned_at=m.last_assigned_at,
        )
        for m in members
    ]


def case_acknowledge_pending(*, limit: int = 500, now: datetime | None = None) -> int:
    """Acknowledge up to `limit` new cases, oldest first; return how many were acknowledged."""
    waiting = Case.objects.filter(status=CaseStatus.NEW).order_by("pk").values_list("pk", flat=True)
    return sum(case_acknowledge(case_id=case_id, now=now) for case_id in waiting[:limit])
