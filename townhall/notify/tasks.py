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


@task()
def alert_fan_out_task(*, alert_id: int) -> int:
    """Queue a published alert for its subscribers (resumes where a previous run stopped)."""
    from townhall.notify.alerts import alert_fan_out

    return alert_fan_out(alert_id=alert_id)


@task()
def subscription_requests_purge_task() -> int:
    """Forget sign-up wishes whose confirmation link expired (unproven e-mail addresses)."""
    from townhall.notify.subscriptions import subscription_requests_purge

    return subscription_requests_purge()
