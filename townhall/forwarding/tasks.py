"""Task entry points for forwarding: send one forward after its commit, and the sweep."""

from __future__ import annotations

from django_tasks import task

from townhall.forwarding.models import ForwardState
from townhall.forwarding.sending import forward_send, forwards_send_due


@task()
def forward_send_task(forward_id: int) -> str:
    """Send one forward (enqueued when it is made); return its state afterwards."""
    return str(forward_send(forward_id).state or ForwardState.PENDING)


@task()
def forwards_send_due_task() -> int:
    """Send every forward now due, retries included (the scheduler runs this every minute);
    return how many were sent."""
    return forwards_send_due()
