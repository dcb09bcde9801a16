"""Task entry points for the insights app."""

from __future__ import annotations

from django_tasks import task

from townhall.insights.facts import insights_refresh


@task()
def facts_refresh_task() -> int:
    """Copy changed live cases into the fact table and refresh the roll-ups; return the
    number of cases read (0 if another refresh was running)."""
    done = insights_refresh()
    return done[0].cases_seen if done is not None else 0
