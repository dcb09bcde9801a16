"""Task entry points for the experience app."""

from __future__ import annotations

from django_tasks import task


@task()
def frustration_scan_task() -> int:
    """Recompute the frustration index of open cases; flag and tell where it is high."""
    return 0  # the frustration owner fills this in
