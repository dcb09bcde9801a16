"""The console's queues: which cases each list holds, in which order, with which filters.

Every queue starts from `access_open_cases(user)` (or all visible cases for "all"), so a
caseworker never lists another department's work. Rows come with their service type,
department and assignee in the same query (one query per page, whatever its length).
Pages are cut by LIMIT/OFFSET with one row more than shown to know if there is a next
page: no COUNT(*) over a million rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from townhall.cases.access import access_cases, access_open_cases
from townhall.cases.lifecycle import OPEN_STATUSES, CaseStatus
from townhall.cases.models import Case
from townhall.catalog.models import Priority
from townhall.console.labels import staff_status_choices
from townhall.console.photo_tags import photo_tag_choices, photo_tag_filter
from townhall.console.selectors import service_filter
from townhall.people.models import Channel

if TYPE_CHECKING:
    from townhall.core.users import SiteUser

PAGE_SIZE = 50


@dataclass(frozen=True)
class Queue:
    slug: str
    title: Any
    description: Any
    cases: Callable[[Any, datetime], QuerySet[Case]]


def _soon(now: datetime) -> datetime:
    return now + timedelta(hours=settings.TOWNHALL_BREACHING_SOON_HOURS)


QUEUES: dict[str, Queue] = {
    q.slug: q
    for q in [
        Queue(
            "mine",
            _("My cases"),
            _("Open cases assigned to you, soonest due first."),
            lambda user, now: access_open_cases(user).filter(assignee_id=user.pk),
        ),
        Queue(
            "unassigned",
            _("Team's unassigned"),
            _("Open cases of your departments that nobody has taken yet."),
            lambda user, now: access_open_cases(user).filter(assignee__isnull=True),
        ),
        Queue(
            "breaching",
            _("Breaching soon"),
            _("Due within the next few hours and not yet late."),
            lambda user, now: (
                access_open_cases(user)
                .exclude(status=CaseStatus.AWAITING_CITIZEN)
                .filter(due_at__gte=now, due_at__lt=_soon(now))
            ),
        ),
        Queue(
            "breached",
            _("Breached"),
            _("Past their due date: the promise to the resident is broken."),
            lambda user, now: (
                access_open_cases(user)
                .exclude(status=CaseStatus.AWAITING_CITIZEN)
                .filter(Q(due_at__lt=now) | Q(breached_at__isnull=False))
            ),
        ),
        Queue(
            "awaiting",
            _("Awaiting citizen"),
            _("Waiting for the resident's reply; the SLA clock is paused."),
            lambda user, now: access_open_cases(user).filter(status=CaseStatus.AWAITING_CITIZEN),
        ),
        Queue(
            "triage",
            _("Needs triage"),
            _("The classifier was not sure of the service: confirm it or move the case."),
            lambda user, now: access_open_cases(user).filter(triage_review__status="pending"),
        ),
        Queue(
            "reopened",
            _("Reopened"),
            _("Residents said these were not fixed."),
            lambda user, now: access_open_cases(user).filter(status=CaseStatus.REOPENED),
        ),
        Queue(
            "all",
            _("All cases"),
            _("Every case of your departments, open or finished, newest first."),
            lambda user, now: access_cases(user),
        ),
    ]
}

AGE_CHOICES = [
    ("", _("Any age")),
    ("1", _("Opened in the last day")),
    ("7", _("Opened in the last week")),
    ("-7", _("Older than a week")),
    ("-30", _("Older than 30 days")),
]
SORT_CHOICES = [
    ("due", _("Due soonest")),
    ("oldest", _("Oldest first")),
    ("newest", _("Newest first")),
    ("priority", _("Highest priority")),
]


class QueueFilterForm(forms.Form):
    """Filters on any queue; every field optional, unknown values are form errors."""

    service = forms.ChoiceField(required=False, label=_("Service"))
    status = forms.ChoiceField(
        required=False,
        label=_("Status"),
        choices=[("", _("Any status")), *staff_status_choices(CaseStatus.values)],
    )
    priority = forms.ChoiceField(
        required=False, label=_("Priority"), choices=[("", _("Any priority")), *Priority.choices]
    )
    channel = forms.ChoiceField(
        required=False, label=_("Channel"), choices=[("", _("Any channel")), *Channel.choices]
    )
    area = forms.CharField(
        required=False, max_length=100, label=_("Area"), help_text=_("Street or postcode")
    )
    age = forms.ChoiceField(required=False, label=_("Age"), choices=AGE_CHOICES)
    photo_tag = forms.ChoiceField(required=False, label=_("Photo looks like (automatic)"))
    sort = forms.ChoiceField(required=False, label=_("Order"), choices=SORT_CHOICES)
    page = forms.IntegerField(
        required=False, min_value=1, max_value=10_000, widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, services: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["service"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Any service")), *services]
        tags = photo_tag_choices()  # issue 20: staff only; none when recognition is off
        if tags:
            tag_field = self.fields["photo_tag"]
            assert isinstance(tag_field, forms.ChoiceField)
            tag_field.choices = [("", _("Any photo")), *tags]
        else:
            del self.fields["photo_tag"]

    def apply(self, qs: QuerySet[Case], *, now: datetime, default_sort: str) -> QuerySet[Case]:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if data.get("service"):
            qs = qs.filter(service_filter(data["service"]))
        if data.get("status"):
            qs = qs.filter(status=data["status"])
        if data.get("priority"):
            qs = qs.filter(priority=data["priority"])
        if data.get("channel"):
            qs = qs.filter(channel=data["channel"])
        if data.get("area"):
            qs = qs.filter(address__icontains=data["area"].strip())
        if data.get("photo_tag"):
            qs = qs.filter(photo_tag_filter(data["photo_tag"]))
        if data.get("age"):
            days = int(data["age"])
            edge = now - timedelta(days=abs(days))
            qs = qs.filter(opened_at__gte=edge) if days > 0 else qs.filter(opened_at__lt=edge)
        return qs.order_by(*ORDERS[data.get("sort") or default_sort])

    def page_number(self) -> int:
        if self.is_bound and self.is_valid():
            return int(self.cleaned_data.get("page") or 1)
        return 1


ORDERS: dict[str, tuple[Any, ...]] = {
    "due": (F("due_at").asc(nulls_last=True), "pk"),
    "oldest": ("opened_at", "pk"),
    "newest": ("-opened_at", "-pk"),
    # urgent, high, normal, low: the stored codes do not sort that way, so spell it out
    "priority": (
        F("priority_rank").asc(),
        F("due_at").asc(nulls_last=True),
        "pk",
    ),
}


def queue_page(
    queue: Queue, user: SiteUser, form: QueueFilterForm, *, now: datetime
) -> tuple[list[Case], bool, int]:
    """(rows, has_next, page) of `queue` for `user` filtered by `form`."""
    from django.db.models import Case as When_
    from django.db.models import IntegerField, Value, When

    default_sort = "newest" if queue.slug == "all" else "due"
    qs = queue.cases(user, now).select_related("service_type", "department", "assignee")
    qs = qs.annotate(
        priority_rank=When_(
            When(priority=Priority.URGENT, then=Value(0)),
            When(priority=Priority.HIGH, then=Value(1)),
            When(priority=Priority.NORMAL, then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        )
    )
    qs = form.apply(qs, now=now, default_sort=default_sort)
    page = form.page_number()
    start = (page - 1) * PAGE_SIZE
    rows = list(qs[start : start + PAGE_SIZE + 1])
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE, page


COUNT_CAP = 1000


def _count_sql(slug: str, queue: Queue, user: SiteUser, now: datetime) -> tuple[str, list[Any]]:
    """SQL counting a queue up to COUNT_CAP + 1, in a shape with an index path.

    "Breached" is "due before now OR marked late". As one OR, PostgreSQL counts it with a
    LIMITed sequential scan whose cost swings (3 to 170 ms here) with where in the table
    the scan begins. The marked ones have their own partial index and are nearly all of
    them, so they are counted first; the OR is only run when they are under the cap.
    """

    def capped(qs: QuerySet[Any]) -> tuple[str, list[Any]]:
        try:
            sql, params = qs.order_by().values("pk")[: COUNT_CAP + 1].query.sql_with_params()
        except EmptyResultSet:  # nothing can match (staff of no department yet): zero
            return "0", []
        return f"(SELECT COUNT(*) FROM ({sql}) AS q_{slug})", list(params)  # noqa: S608

    if slug == "breached":
        running = access_open_cases(user).exclude(status=CaseStatus.AWAITING_CITIZEN)
        marked, marked_params = capped(running.filter(breached_at__isnull=False))
        either, either_params = capped(queue.cases(user, now))
        return (
            f"(CASE WHEN {marked} > {COUNT_CAP} THEN {COUNT_CAP + 1} ELSE {either} END)",
            marked_params + either_params,
        )
    return capped(queue.cases(user, now))


def queue_counts(user: SiteUser, now: datetime) -> dict[str, int]:
    """How many cases each open queue holds for `user`, counted up to COUNT_CAP + 1 (shown
    as "1,000+"): a department with 100,000 open cases needs no exact figure in a menu, and
    counting them all on every page would cost more than the page. One query."""
    from django.db import connection

    parts: list[str] = []
    params: list[Any] = []
    slugs: list[str] = []
    for slug, queue in QUEUES.items():
        if slug == "all":
            continue
        sql, inner_params = _count_sql(slug, queue, user, now)
        parts.append(sql)
        params.extend(inner_params)
        slugs.append(slug)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return dict(zip(slugs, (int(n) for n in row), strict=True))


def is_open(case: Case) -> bool:
    return case.status in OPEN_STATUSES
