"""Staff performance for supervisors: per assignee, the cases they handled in a period.

Read from live cases (imported history has no assignees) within the supervisor's
departments: cases handled (assigned to them, opened in the period), resolved, median days
to resolve, SLA compliance (resolved by the due date among those with one) and hours logged
(their time entries on cases in scope, worked on in the period).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q, QuerySet, Sum

from townhall.cases.models import Case, TimeEntry
from townhall.insights.kpis import KpiFilters, period_q
from townhall.insights.selectors import Scope

STAFF_COLUMNS = (
    "person",
    "handled",
    "resolved",
    "median_days_to_resolve",
    "sla_compliance",
    "hours_logged",
)


def _cases(scope: Scope, filters: KpiFilters) -> QuerySet[Case]:
    qs = Case.objects.all()
    if scope.department_ids is not None:
        qs = qs.filter(department_id__in=sorted(scope.department_ids))
    if filters.department_id:
        qs = qs.filter(department_id=filters.department_id)
    if filters.service_type_id:
        qs = qs.filter(service_type_id=filters.service_type_id)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.area:
        qs = qs.filter(fact__area=filters.area)
    return qs


def staff_performance(scope: Scope, filters: KpiFilters) -> list[dict[str, Any]]:
    """One row per person (STAFF_COLUMNS plus "user_id"), most cases handled first."""
    cases = _cases(scope, filters)
    opened = cases.filter(period_q(filters))
    resolved_q = Q(resolved_at__isnull=False)
    judged_q = resolved_q & Q(due_at__isnull=False)
    on_time_q = judged_q & Q(resolved_at__lte=F("due_at"))
    per_person: dict[int, dict[str, Any]] = {}
    for row in (
        opened.filter(assignee__isnull=False)
        .values("assignee_id")
        .annotate(
            handled=Count("pk"),
            resolved=Count("pk", filter=resolved_q),
            judged=Count("pk", filter=judged_q),
            on_time=Count("pk", filter=on_time_q),
        )
    ):
        per_person[row["assignee_id"]] = row
    durations: dict[int, list[float]] = defaultdict(list)
    for user_id, o, r in opened.filter(resolved_q, assignee__isnull=False).values_list(
        "assignee_id", "opened_at", "resolved_at"
    ):
        if r is not None and user_id is not None:
            durations[user_id].append((r - o).total_seconds() / 86400)
    entries = TimeEntry.objects.filter(case__in=cases)
    if filters.date_from:
        entries = entries.filter(worked_on__gte=filters.date_from)
    if filters.date_to:
        entries = entries.filter(worked_on__lte=filters.date_to)
    minutes = dict(entries.values("user_id").annotate(m=Sum("minutes")).values_list("user_id", "m"))
    people = get_user_model().objects.filter(pk__in=set(per_person) | set(minutes))
    names = {u.pk: (u.get_full_name() or u.get_username()) for u in people}
    out = []
    for user_id in set(per_person) | set(minutes):
        row = per_person.get(user_id, {"handled": 0, "resolved": 0, "judged": 0, "on_time": 0})
        spread = durations.get(user_id, [])
        out.append(
            {
                "user_id": user_id,
                "person": names.get(user_id, str(user_id)),
                "handled": row["handled"],
                "resolved": row["resolved"],
                "median_days_to_resolve": round(statistics.median(spread), 2) if spread else None,
                "sla_compliance": round(row["on_time"] / row["judged"], 4)
                if row["judged"]
                else None,
                "hours_logged": round((minutes.get(user_id) or 0) / 60, 2),
            }
        )
    out.sort(key=lambda r: (-r["handled"], r["person"]))
    return out
