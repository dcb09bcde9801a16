"""Task entry points for notifications."""

from __future__ import annotations

from django_tasks import task

from townhall.notify import services

SEND_BATCH = 200


@task()
def notification_send_due_task() -> int:
    """Send every due notification; enqueue another run if a full batch was done."""
    done = services.notification_send_due(limit=SEND_BATCH)
    if done == SEND_BATCH:
        notification_send_due_task.enqueue()
    return done
