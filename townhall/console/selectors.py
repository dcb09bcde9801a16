"""What the console reads beyond the cases app's selectors: service choices within the
right council, the people and departments a case may go to, canned responses, team load.

Service codes are unique only within a jurisdiction (two councils on one site may both
have "pothole"), so every service is looked up with its jurisdiction: the case's, or the
councils of the departments the member of staff belongs to. A choice's value is the
service's code; only when the councils a member of staff sees share a code is it written
"jurisdiction-slug:code", so that each choice names one service.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet

from townhall.cases.access import access_cases, access_department_ids
from townhall.cases.lifecycle import OPEN_STATUSES
from townhall.cases.models import Case
from townhall.catalog.models import Department, DepartmentMember, ServiceType
from townhall.console.models import CannedResponse, SavedView

if TYPE_CHECKING:
    from townhall.core.users import SiteUser

SEPARATOR = ":"


def staff_jurisdiction_ids(user: SiteUser) -> frozenset[int] | None:
    """The councils whose services `user` works with: those of their departments
    (None: every council, for those who see every department)."""
    departments = access_department_ids(user)
    if departments is None:
        return None
    return frozenset(
        Department.objects.filter(pk__in=departments).values_list("jurisdiction_id", flat=True)
    )


def _services(
    jurisdiction_ids: Iterable[int] | None, *, departments: frozenset[int] | None = None
) -> QuerySet[ServiceType]:
    qs = ServiceType.objects.filter(active=True).select_related("jurisdiction")
    if jurisdiction_ids is not None:
        qs = qs.filter(jurisdiction_id__in=list(jurisdiction_ids))
    if departments is not None:
        qs = qs.filter(department_id__in=departments)
    return qs.order_by("name", "jurisdiction__name")


def _choices(services: list[ServiceType]) -> list[tuple[str, str]]:
    """(value, label) per service; codes two councils share are qualified by council."""
    shared = {code for code, n in Counter(s.code for s in services).items() if n > 1}
    return [
        (
            f"{s.jurisdiction.slug}{SEPARATOR}{s.code}" if s.code in shared else s.code,
            f"{s.name} ({s.jurisdiction.name})" if s.code in shared else s.name,
        )
        for s in services
    ]


def service_choices_for_staff(
    user: SiteUser, *, own_departments: bool = False
) -> list[tuple[str, str]]:
    """Active services of the councils `user` works with (with `own_departments`, only
    those their departments handle: the queue filter)."""
    if own_departments:  # their departments' services: those councils' by construction
        return _choices(list(_services(None, departments=access_department_ids(user))))
    return _choices(list(_services(staff_jurisdiction_ids(user))))


def service_choices_for_case(case: Case) -> list[tuple[str, str]]:
    """Active services of the case's council (triage, split): values are plain codes."""
    return list(
        ServiceType.objects.filter(active=True, jurisdiction_id=case.service_type.jurisdiction_id)
        .order_by("name")
        .values_list("code", "name")
    )


def service_from_choice(
    value: str, *, jurisdiction_ids: Iterable[int] | None
) -> ServiceType | None:
    """The one active service a choice names within those councils, or None (unknown,
    or a bare code that more than one of them uses)."""
    value = (value or "").strip()
    if not value:
        return None
    qs = _services(jurisdiction_ids)
    if SEPARATOR in value:
        slug, code = value.split(SEPARATOR, 1)
        qs = qs.filter(jurisdiction__slug=slug, code=code)
    else:
        qs = qs.filter(code=value)
    found = list(qs.select_related("department", "group")[:2])
    return found[0] if len(found) == 1 else None


def service_filter(value: str) -> Q:
    """The queue filter for a service choice (see the module's docstring)."""
    if SEPARATOR in value:
        slug, code = value.split(SEPARATOR, 1)
        return Q(service_type__code=code, service_type__jurisdiction__slug=slug)
    return Q(service_type__code=value)


def service_for_case(case: Case, code: str) -> ServiceType | None:
    """The active service `code` of the case's council, or None."""
    return service_from_choice(code, jurisdiction_ids=[case.service_type.jurisdiction_id])


def department_members(case: Case) -> list[tuple[int, str]]:
    """(user id, name) of the active members of the case's department."""
    rows = (
        DepartmentMember.objects.filter(department_id=case.department_id, user__is_active=True)
        .select_related("user")
        .order_by("user__first_name", "user__username")
    )
    return [(m.user_id, m.user.get_full_name() or m.user.get_username()) for m in rows]


def transfer_departments(case: Case) -> list[tuple[int, str]]:
    """(id, name) of the other departments of the case's council."""
    return list(
        Department.objects.filter(jurisdiction_id=case.department.jurisdiction_id)
        .exclude(pk=case.department_id)
        .order_by("name")
        .values_list("pk", "name")
    )


def transfer_department_get(case: Case, department_id: int) -> Department | None:
    return (
        Department.objects.filter(jurisdiction_id=case.department.jurisdiction_id)
        .filter(pk=department_id)
        .first()
    )


def canned_for(case: Case) -> list[CannedResponse]:
    """The active canned responses offered on the case: everyone's and its department's."""
    return list(
        CannedResponse.objects.filter(active=True)
        .filter(Q(department__isnull=True) | Q(department_id=case.department_id))
        .order_by("title")
    )


def saved_views_for(user: SiteUser) -> list[SavedView]:
    return list(SavedView.objects.filter(user_id=user.pk or 0))  # nobody signed in: none


# --- the team page --------------------------------------------------------------------------


@dataclass
class Load:
    open: int = 0
    late: int = 0


@dataclass
class LoadRow:
    """One person's open cases in one department. `member` is None for someone holding
    cases of a department they are not (or no longer) a member of."""

    user: Any
    department: Department
    member: DepartmentMember | None
    load: Load


@dataclass
class DepartmentLoad:
    department_id: int
    name: str
    open: int = 0
    unassigned: int = 0
    assigned: int = 0
    late: int = 0


@dataclass
class TeamLoad:
    people: list[LoadRow] = field(default_factory=list)
    departments: list[DepartmentLoad] = field(default_factory=list)


def _late(now: datetime) -> Q:
    return Q(due_at__lt=now) | Q(breached_at__isnull=False)


def team_load(user: SiteUser, *, now: datetime) -> TeamLoad:
    """Open cases per person and per department, for the departments `user` sees.

    Every open case is counted once: under its department's unassigned cases or under the
    person it is assigned to, whether or not that person is a member of the department (a
    council administrator who took it, a member who moved on), so each department's
    people and unassigned cases add up to its open cases.
    """
    departments = access_department_ids(user)
    open_cases = access_cases(user).filter(status__in=OPEN_STATUSES)
    members = DepartmentMember.objects.select_related("user", "department").order_by(
        "department__name", "user__first_name", "user__username"
    )
    if departments is not None:
        members = members.filter(department_id__in=departments)
    load = {
        (row["assignee_id"], row["department_id"]): Load(row["open"], row["late"])
        for row in open_cases.filter(assignee__isnull=False)
        .values("assignee_id", "department_id")
        .annotate(open=Count("pk"), late=Count("pk", filter=_late(now)))
    }
    people = [
        LoadRow(m.user, m.department, m, load.pop((m.user_id, m.department_id), Load()))
        for m in members
    ]
    if load:  # assignees outside the department: listed too, so the totals add up
        users = {u.pk: u for u in _users({uid for uid, _d in load})}
        depts = Department.objects.in_bulk({did for _u, did in load})
        people.extend(
            LoadRow(users[uid], depts[did], None, counts)
            for (uid, did), counts in load.items()
            if uid in users and did in depts
        )
    people.sort(
        key=lambda r: (
            r.department.name,
            r.department.pk,
            r.member is None,
            r.user.first_name,
            r.user.get_username(),
        )
    )
    by_department = [
        DepartmentLoad(
            department_id=row["department_id"],
            name=row["department__name"],
            open=row["open"],
            unassigned=row["unassigned"],
            assigned=row["open"] - row["unassigned"],
            late=row["late"],
        )
        # by id, not name: two councils' "Public Works" are two departments
        for row in open_cases.values("department_id", "department__name")
        .annotate(
            open=Count("pk"),
            unassigned=Count("pk", filter=Q(assignee__isnull=True)),
            late=Count("pk", filter=_late(now)),
        )
        .order_by("-late", "department__name", "department_id")
    ]
    return TeamLoad(people=people, departments=by_department)


def _users(ids: set[int]) -> list[Any]:
    from django.contrib.auth import get_user_model

    return list(get_user_model().objects.filter(pk__in=ids))


def oldest_open_cases(user: SiteUser, *, limit: int = 15) -> list[Case]:
    return list(
        access_cases(user)
        .filter(status__in=OPEN_STATUSES)
        .select_related("service_type", "assignee", "department")
        .order_by("opened_at", "pk")[:limit]
    )


# --- the case page ----------------------------------------------------------------------------


def case_history(case: Case, *, limit: int = 200) -> list[Any]:
    """The case's events, newest first, with their actors."""
    from townhall.cases.models import CaseEvent

    return list(
        CaseEvent.objects.filter(case=case).select_related("actor").order_by("-seq")[:limit]
    )


def case_photos(case: Case) -> list[Any]:
    from townhall.cases.models import CasePhoto

    return list(CasePhoto.objects.filter(case=case).only("id", "width", "height"))


def case_photo_get(case: Case, photo_id: int) -> Any:
    """The case's photo `photo_id`, or None."""
    from townhall.cases.models import CasePhoto

    return CasePhoto.objects.filter(pk=photo_id, case_id=case.pk).first()


def case_watchers(case: Case) -> list[Any]:
    from townhall.cases.models import CaseWatcher

    return [w.user for w in CaseWatcher.objects.filter(case=case).select_related("user")]


def staff_by_usernames(names: Iterable[str]) -> dict[str, Any]:
    """Active staff accounts by username, for @mentions."""
    from django.contrib.auth import get_user_model

    found = get_user_model().objects.filter(username__in=list(names), is_active=True, is_staff=True)
    return {u.get_username(): u for u in found}


def user_get(user_id: int) -> Any:
    """The account `user_id`, or None."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=user_id).first()


def duplicate_suggestion_open_get(case: Case, suggestion_id: int) -> Any:
    """The open duplicate suggestion `suggestion_id` about `case`, or None."""
    from townhall.intake.models import DuplicateSuggestion, SuggestionStatus

    return DuplicateSuggestion.objects.filter(
        pk=suggestion_id, case=case, status=SuggestionStatus.OPEN
    ).first()


def case_attachment_get(case: Case, attachment_id: int) -> Any:
    """A file that came with a message about `case`, or None."""
    from townhall.intake.models import InboundAttachment

    return InboundAttachment.objects.filter(pk=attachment_id, message__case_id=case.pk).first()


# --- the sign-in code ---------------------------------------------------------------------


def authenticator_active(user: SiteUser) -> Any:
    """`user`'s confirmed authenticator (a django-otp TOTP device), or None."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def backup_codes_left(user: SiteUser) -> int:
    from django_otp.plugins.otp_static.models import StaticToken

    return int(StaticToken.objects.filter(device__user=user).count())
