"""The SLA breach scan: every running case past its due date gets one SLA_BREACHED event,
escalated to its department's supervisors."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import OuterRef, Subquery

from townhall.cases.dispatch import case_event_publish, case_event_wanted
from townhall.cases.ledger import GENESIS_HASH
from townhall.cases.lifecycle import OPEN_STATUSES, PAUSED_STATUSES
from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.cases.services.chain import event_build, iso, personal_save
from townhall.catalog.models import DepartmentMember
from townhall.core import clock
from townhall.people.models import Channel
from townhall.people.roles import StaffRole

if TYPE_CHECKING:
    from townhall.core.users import StaffUser

logger = logging.getLogger(__name__)

SCAN_BATCH = 500

# One overdue case as the scan reads it: (pk, department_id, due_at, opened_at).
_Overdue = tuple[int, int, datetime | None, datetime]


def _supervisors_by_department() -> dict[int, list[Any]]:
    """Active supervisors and department admins of each department, for escalations."""
    rows = (
        DepartmentMember.objects.filter(
            user__is_active=True,
            user__groups__name__in=[StaffRole.SUPERVISOR.value, StaffRole.DEPARTMENT_ADMIN.value],
        )
        .select_related("user")
        .distinct()
    )
    out: dict[int, list[Any]] = {}
    for member in rows:
        out.setdefault(member.department_id, []).append(member.user)
    return out


def case_sla_scan(*, now: datetime | None = None, batch: int = SCAN_BATCH) -> int:
    """Record an SLA_BREACHED event on every running case past its due date, escalated to
    its department's supervisors; return how many.

    Works in batches: each locks up to `batch` overdue cases (skipping any another
    transaction holds: the next scan takes them), appends their events in one insert and
    marks them in one update. Each supervisor gets one e-mail per scan listing their newly
    breached cases (after the events are committed; a mail failure never undoes them).
    """
    at = now or clock.now()
    running = OPEN_STATUSES - PAUSED_STATUSES
    supervisors: dict[int, list[Any]] | None = None
    digest: dict[int, tuple[Any, list[str]]] = {}
    count = 0
    while True:
        with transaction.atomic():
            rows: list[_Overdue] = list(
                Case.objects.select_for_update(skip_locked=True)
                .filter(status__in=running, due_at__lt=at, breached_at__isnull=True)
                .order_by("pk")
                .values_list("pk", "department_id", "due_at", "opened_at")[:batch]
            )
            if not rows:
                break
            if supervisors is None:
                supervisors = _supervisors_by_department()
            _breaches_record(rows, at=at, supervisors=supervisors, digest=digest)
            count += len(rows)
        if len(rows) < batch:
            break
    for user, references in digest.values():
        _escalation_mail(user, references)
    logger.info("SLA scan at %s: %d case(s) newly breached", at.isoformat(), count)
    return count


def _breaches_record(
    rows: list[_Overdue],
    *,
    at: datetime,
    supervisors: dict[int, list[Any]],
    digest: dict[int, tuple[Any, list[str]]],
) -> None:
    """Append the SLA_BREACHED events of one locked batch in one insert, mark the cases in
    one update, and add each case's reference to its supervisors' `digest`."""
    ids = [row[0] for row in rows]
    last = {
        case_id: (seq, digest_hash)
        for case_id, seq, digest_hash in CaseEvent.objects.filter(
            case_id__in=ids,
            seq=Subquery(
                CaseEvent.objects.filter(case_id=OuterRef("case_id"))
                .order_by("-seq")
                .values("seq")[:1]
            ),
        ).values_list("case_id", "seq", "hash")
    }
    events = []
    for case_id, department_id, due_at, opened_at in rows:
        escalated = supervisors.get(department_id, [])
        shell = Case(pk=case_id, opened_at=opened_at)
        events.append(
            event_build(
                case=shell,
                kind=CaseEventKind.SLA_BREACHED,
                at=at,
                actor=None,
                channel=Channel.STAFF,
                previous=last.get(case_id, (0, GENESIS_HASH)),
                data={
                    "due_at": iso(due_at),
                    "overdue_s": (at - due_at).total_seconds() if due_at else 0.0,
                    "escalated_to": [u.get_username() for u in escalated],
                },
            )
        )
        for user in escalated:
            digest.setdefault(user.pk, (user, []))[1].append(shell.reference)
    CaseEvent.objects.bulk_create(events)
    personal_save(events)
    Case.objects.filter(pk__in=ids).update(breached_at=at)
    if case_event_wanted(CaseEventKind.SLA_BREACHED):
        for event in events:
            case_event_publish(event)


def _escalation_mail(user: StaffUser, references: list[str]) -> None:
    # Through the outbox: cases cannot import notify, so notify names its handler in
    # settings (notify.staff_mail.sla_escalation_queue), as for case-event subscribers.
    from django.conf import settings
    from django.utils.module_loading import import_string

    handler = getattr(settings, "TOWNHALL_SLA_ESCALATION_HANDLER", "")
    if not handler:
        return
    try:
        import_string(handler)(user=user, references=references)
    except Exception:  # the escalation is on record in each case; the mail is a courtesy
        logger.exception("could not queue the SLA escalation to %s", user.get_username())
