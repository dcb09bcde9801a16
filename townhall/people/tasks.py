"""Task entry points for people: thin wrappers that call a service."""

from __future__ import annotations

from django_tasks import task

from townhall.people import services


@task()
def proofs_purge_task() -> int:
    """Delete expired sign-in links and phone codes."""
    return services.proofs_purge()
