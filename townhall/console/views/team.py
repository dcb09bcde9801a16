"""The team page for supervisors: load per person, open cases by department, the oldest."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from townhall.cases.access import Action
from townhall.console.queues import QUEUES
from townhall.console.selectors import oldest_open_cases, team_load
from townhall.console.views.common import require, staff_required
from townhall.core import clock


@require_GET
@staff_required
def team_view(request: HttpRequest) -> HttpResponse:
    """Team load, breaches by department and the oldest open cases, for supervisors."""
    require(request, Action.SUPERVISE)
    now = clock.now()
    load = team_load(request.user, now=now)
    return render(
        request,
        "console/team.html",
        {
            "queues": QUEUES,
            "team": load.people,
            "by_department": load.departments,
            "oldest": oldest_open_cases(request.user),
            "now": now,
        },
    )
