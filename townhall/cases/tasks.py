"""Task entry points for cases: thin wrappers that take ids and call a service."""

from __future__ import annotations

from django_tasks import task

from townhall.cases import services


@task()
def case_acknowledge_task(*, case_id: int) -> bool:
    """Acknowledge a newly opened case."""
    return services.case_acknowledge(case_id=case_id)


@task()
def case_sla_scan_task() -> int:
    """Record breaches on every case past its SLA due date."""
    return services.case_sla_scan()


@task()
def case_sweep_task() -> int:
    """Acknowledge new cases whose follow-up task was lost."""
    return services.case_sweep()
