"""Who works on a case: its assignee, its department and service, and staff watching it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from townhall.cases.errors import InvalidCaseInput
from townhall.cases.lifecycle import OPEN_STATUSES, PAUSED_STATUSES
from townhall.cases.models import Case, CaseEventKind, CaseWatcher
from townhall.cases.services.chain import Actor, case_change, iso
from townhall.cases.services.deadlines import case_sla, sla_columns
from townhall.catalog.models import ServiceType
from townhall.core import clock

if TYPE_CHECKING:
    from townhall.catalog.models import Department
    from townhall.core.users import StaffUser


def case_assign(
    *, case: Case, assignee: AbstractBaseUser | None, actor: Actor, now: datetime | None = None
) -> Case:
    """Give a case to `assignee` (None to return it to the department's queue).

    Raise InvalidCaseInput if the case is finished.
    """
    at = now or clock.now()
    with case_change(case.pk, at=at, actor=actor, refresh=case) as change:
        if change.case.status not in OPEN_STATUSES:
            raise InvalidCaseInput(
                _("Only open cases can be assigned."),
                details={"assignee": [_("The case is finished.")]},
            )
        previous_id = change.case.assignee_id
        change.set(assignee_id=assignee.pk if assignee is not None else None)
        change.append(
            CaseEventKind.ASSIGNED,
            {
                "from": previous_id,
                "to": change.case.assignee_id,
                "to_label": assignee.get_username() if assignee is not None else "",
            },
        )
    return case


def _move_refuse(locked: Case, problems: dict[str, list[str]], *, field: str, title: str) -> None:
    """Raise InvalidCaseInput(`title`) if `problems` holds any or the case is finished (said
    on `field`): only an open case moves to another department or service."""
    if locked.status not in OPEN_STATUSES:
        problems[field] = [_("Only an open case can move.")]
    if problems:
        raise InvalidCaseInput(title, details=problems)


def case_transfer(
    *, case: Case, department: Department, reason: str, actor: Actor, now: datetime | None = None
) -> Case:
    """Hand an open case to another department of the same council; it joins their queue.

    Raise InvalidCaseInput for a finished case, the same department, another council's
    department or no reason.
    """
    at = now or clock.now()
    with case_change(case.pk, at=at, actor=actor, refresh=case) as change:
        locked = change.case
        errors: dict[str, list[str]] = {}
        if not reason.strip():
            errors["reason"] = [_("Say why the case moves.")]
        if department.pk == locked.department_id:
            errors["department"] = [_("Choose another department.")]
        elif department.jurisdiction_id != locked.service_type.jurisdiction_id:
            errors["department"] = [_("Choose a department of the same council.")]
        _move_refuse(
            locked, errors, field="department", title=_("The case could not be transferred.")
        )
        previous = locked.department
        change.set(department_id=department.pk, assignee_id=None)
        change.append(
            CaseEventKind.TRANSFERRED,
            {
                "from": previous.code,
                "from_label": previous.name,
                "to": department.code,
                "to_label": department.name,
                "reason": reason.strip(),
            },
        )
    case.department = department
    return case


def case_service_change(
    *,
    case: Case,
    service_type: ServiceType,
    actor: Actor,
    reason: str = "",
    now: datetime | None = None,
) -> Case:
    """Re-file an open case under another service (triage got it wrong, or the resident
    chose badly): it moves to that service's department and queue, and its due date is
    worked out again from when it was received under the new service's SLA.

    Raise InvalidCaseInput for a finished case, the same service, an inactive one or
    another council's.
    """
    at = now or clock.now()
    with case_change(case.pk, at=at, actor=actor, refresh=case) as change:
        locked = change.case
        errors: dict[str, list[str]] = {}
        if service_type.pk == locked.service_type_id:
            errors["service"] = [_("Choose another service.")]
        elif service_type.jurisdiction_id != locked.service_type.jurisdiction_id:
            errors["service"] = [_("Choose a service of the same council.")]
        elif not service_type.active:
            errors["service"] = [_("That service is not taking requests.")]
        _move_refuse(locked, errors, field="service", title=_("The case could not be moved."))
        previous = locked.service_type
        previous_department = locked.department
        change.set(service_type=service_type, department_id=service_type.department_id)
        if service_type.department_id != previous_department.pk:
            change.set(assignee_id=None)
        sla = case_sla(locked)
        if sla is not None and locked.status not in PAUSED_STATUSES:
            change.set(**sla_columns(sla, sla.start(locked.opened_at)))
        change.append(
            CaseEventKind.TRANSFERRED,
            {
                "from_service": previous.code,
                "to_service": service_type.code,
                "from": previous_department.code,
                "from_label": previous_department.name,
                "to": locked.department.code,
                "to_label": locked.department.name,
                "reason": reason.strip(),
                "due_at": iso(locked.due_at),
            },
        )
    case.service_type = service_type
    case.department = locked.department
    return case


def case_watch(*, case: Case, user: StaffUser, watching: bool = True) -> bool:
    """Start (or stop) `user` watching `case`; return whether they watch it now."""
    if watching:
        CaseWatcher.objects.get_or_create(case=case, user=user)
    else:
        CaseWatcher.objects.filter(case=case, user=user).delete()
    return watching
