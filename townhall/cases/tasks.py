"""Task entry points for cases: thin wrappers that take ids and call a service."""

from __future__ import annotations

from django_tasks import task

from townhall.cases import services

ACKNOWLEDGE_BATCH = 500


@task()
def case_acknowledge_pending_task() -> int:
    """Acknowledge every new case; enqueue another run if a full batch was done."""
    done = services.case_acknowledge_pending(limit=ACKNOWLEDGE_BATCH)
    if done == ACKNOWLEDGE_BATCH:
        case_acknowledge_pending_task.enqueue()
    return done


@task()
def case_sla_scan_task() -> int:
    """Record breaches on every case past its SLA due date."""
    return services.case_sla_scan()


@task()
def ledger_seal_task() -> int:
    """Seal the heads of every case chain (daily); return the seal's id."""
    return int(services.ledger_seal().pk)
