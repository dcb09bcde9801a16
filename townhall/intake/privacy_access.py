"""Privacy requests: who may ask for a resident's data or its erasure, and the types the
export and the erasure share (see intake.privacy)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Q

from townhall.cases.access import access_department_ids, access_is_staff
from townhall.cases.models import Case
from townhall.core.errors import NotFound
from townhall.people.models import Citizen

if TYPE_CHECKING:
    from townhall.core.users import SiteUser

EXPORT_FORMAT = 1
Actor = AbstractBaseUser | None
# step name, done, total: for the command's progress bar.
Progress = Callable[[str, int, int], None]


def _quiet(step: str, done: int, total: int) -> None:
    return None


# --- who may ask -------------------------------------------------------------------------


def _resident_case_filter(citizen_id: int) -> Q:
    return (
        Q(reporter_id=citizen_id)
        | Q(followers__citizen_id=citizen_id)
        | Q(messages__citizen_id=citizen_id)
    )


def privacy_may_export(user: SiteUser, citizen: Citizen) -> bool:
    """May staff `user` export `citizen`'s data?

    Council admins may export anyone. Other staff see a resident only through cases of
    their departments, so they may export a resident only when every case the resident
    reported, follows or wrote about is in their departments: the ZIP never shows them a
    case the console would hide.
    """
    if not access_is_staff(user):
        return False
    departments = access_department_ids(user)
    if departments is None:
        return True
    involved = set(
        Case.objects.filter(_resident_case_filter(citizen.pk))
        .values_list("department_id", flat=True)
        .distinct()
    )
    return bool(involved) and involved <= departments


def privacy_may_erase(user: SiteUser) -> bool:
    """Erasure on staff's initiative is for council admins only (it cannot be undone)."""
    return access_is_staff(user) and access_department_ids(user) is None


def citizen_for_privacy(citizen_id: int) -> Citizen:
    citizen = Citizen.objects.select_related("user").filter(pk=citizen_id).first()
    if citizen is None:
        raise NotFound(f"No resident {citizen_id}.")
    return citizen
