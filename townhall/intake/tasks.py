"""Task entry points for intake: thin wrappers that call a service."""

from __future__ import annotations

from django_tasks import task

from townhall.intake import services


@task()
def intake_process_pending_task() -> int:
    """Process messages a crash or an error left unprocessed."""
    return services.intake_process_pending()


@task()
def duplicate_suggestions_task(case_id: int) -> int:
    """Suggest to staff the open cases a new one may repeat (after it was committed).

    Kept for task rows enqueued before duplicate_suggestions_pending_task replaced it."""
    return services.duplicate_suggestions_find(case_id=case_id)


@task()
def duplicate_suggestions_pending_task() -> int:
    """Suggest to staff the open cases that newly opened ones may repeat."""
    return services.duplicate_suggestions_pending()


@task()
def retention_purge_task() -> dict[str, int]:
    """Remove what has outlived its retention period (intake.retention)."""
    from townhall.intake.retention import retention_purge

    return {item.kind: item.purged for item in retention_purge(dry_run=False)}
