"""Task entry points for the experience app."""

from __future__ import annotations

from django_tasks import task

from townhall.experience.services_frustration import frustration_scan


@task()
def frustration_scan_task() -> int:
    """Recompute the frustration index of open cases; flag and tell where it is high.
    Return how many cases are at or above the threshold."""
    return frustration_scan().above
