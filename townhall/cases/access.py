"""Who on staff may see and do what with which case. Every console read goes through here.

Staff see the cases of the departments they are members of (`catalog.DepartmentMember`);
council administrators (superusers) see every case. What they may do is their role's
permissions (`people.roles.CONSOLE`). A case outside someone's departments does not exist
for them: `access_case_get` raises CaseNotFound, the same answer as a wrong id, so the
console never confirms that a case it will not show exists.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, TypeGuard

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from townhall.cases.errors import CaseNotFound
from townhall.cases.lifecycle import OPEN_STATUSES
from townhall.cases.models import Case, CaseFollower
from townhall.catalog.models import DepartmentMember
from townhall.people.models import Citizen

if TYPE_CHECKING:
    from townhall.core.users import SiteUser, StaffUser

_CACHE_ATTR = "_townhall_department_ids"


class Action(StrEnum):
    WORK = "cases.work_case"  # notes, public updates, status, merge, take for oneself
    ASSIGN = "cases.assign_case"  # give to a colleague of the department
    SUPERVISE = "cases.supervise_case"  # reassign anywhere, transfer, due dates, team load
    LOG_CALL = "cases.log_call"


def access_is_staff(user: SiteUser) -> TypeGuard[StaffUser]:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_staff", False))


def access_department_ids(user: SiteUser) -> frozenset[int] | None:
    """The departments whose cases `user` sees; None means all (council admins)."""
    if not access_is_staff(user):
        return frozenset()
    if user.is_superuser:
        return None
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = frozenset(
            DepartmentMember.objects.filter(user_id=user.pk).values_list("department_id", flat=True)
        )
        setattr(user, _CACHE_ATTR, cached)  # once per request: the user object is per request
    return cached


def access_cases(user: SiteUser) -> QuerySet[Case]:
    """Every case `user` may see (none for anyone not on staff)."""
    departments = access_department_ids(user)
    qs = Case.objects.all()
    if departments is None:
        return qs
    return qs.filter(department_id__in=departments) if departments else qs.none()


def access_citizens(user: SiteUser) -> QuerySet[Citizen]:
    """The residents `user` may see: those who reported or follow a case they may see.

    Council admins see everyone; staff see nobody whose only cases are in other departments
    (the console shows a resident only through one of their cases).
    """
    departments = access_department_ids(user)
    if departments is None:
        return Citizen.objects.all()
    if not departments:
        return Citizen.objects.none()
    visible = access_cases(user)
    return Citizen.objects.filter(
        Q(pk__in=visible.filter(reporter__isnull=False).values("reporter_id"))
        | Q(
            pk__in=CaseFollower.objects.filter(case__in=visible, citizen__isnull=False).values(
                "citizen_id"
            )
        )
    )


def access_open_cases(user: SiteUser) -> QuerySet[Case]:
    return access_cases(user).filter(status__in=OPEN_STATUSES)


def access_case_get(user: SiteUser, case_id: int, *, for_update: bool = False) -> Case:
    """The case with `case_id` if `user` may see it; CaseNotFound otherwise."""
    qs = access_cases(user).select_related(
        "service_type", "department", "assignee", "reporter", "merged_into"
    )
    if for_update:
        qs = qs.select_for_update()
    found = qs.filter(pk=case_id).first()
    if found is None:
        raise CaseNotFound(_("No case %(id)s.") % {"id": case_id})
    return found


def access_case_visible(user: SiteUser, case: Case) -> bool:
    """May `user` see `case` (already loaded)?"""
    departments = access_department_ids(user)
    return departments is None or case.department_id in departments


def access_can(user: SiteUser, action: Action, case: Case | None = None) -> bool:
    """May `user` do `action` (on `case`, which they must be able to see)?"""
    if not access_is_staff(user) or not user.has_perm(action.value):
        return False
    if case is None:
        return True
    departments = access_department_ids(user)
    return departments is None or case.department_id in departments


def access_can_be_assigned(user: SiteUser, case: Case) -> bool:
    """Can `case` be given to `user`: staff, active, and a member of its department."""
    if not access_is_staff(user) or not getattr(user, "is_active", False):
        return False
    if user.is_superuser:
        return True
    return DepartmentMember.objects.filter(
        user_id=user.pk, department_id=case.department_id
    ).exists()
