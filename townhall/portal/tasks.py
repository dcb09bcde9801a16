"""Task entry points for the portal."""

from __future__ import annotations

from django_tasks import task

from townhall.intake.staging import staged_photos_purge


@task()
def staged_photos_purge_task() -> int:
    """Delete photos kept for report forms that were never sent."""
    return staged_photos_purge()
