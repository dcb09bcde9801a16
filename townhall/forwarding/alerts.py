"""Telling staff that a forward needs them: a failed send, an unknown remote status.

Every problem is recorded as a failed `ForwardSync` (the case page lists it) and as an
internal note on the case, so the caseworker sees it in the case's history and the console.
A send that failed for good also e-mails the case's watchers and its department's
supervisors (`forward_failed_tell`, notify's FORWARD_FAILED kind).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from townhall.cases.models import CaseWatcher
from townhall.cases.services import case_note_add
from townhall.forwarding.models import Forward, ForwardSync, SyncKind
from townhall.notify.links import public_url
from townhall.notify.models import NotificationKind
from townhall.notify.updates import department_supervisors, staff_mail_queue


def forward_problem(
    forward: Forward, detail: str, *, remote_status: str = "", elapsed_ms: int | None = None
) -> ForwardSync:
    """Record that `forward` needs staff: a failed sync and an internal note on the case."""
    sync = ForwardSync.objects.create(
        forward=forward,
        kind=SyncKind.FAILURE,
        ok=False,
        remote_status=remote_status[:60],
        detail=detail[:500],
        elapsed_ms=elapsed_ms,
    )
    case_note_add(
        case=forward.case,
        text=_("Forwarding to %(body)s needs attention: %(detail)s")
        % {"body": forward.body.name, "detail": detail[:400]},
        actor=None,
    )
    return sync


def forward_failed_tell(forward: Forward, detail: str) -> int:
    """E-mail the case's watchers and its department's supervisors that `forward` failed;
    return how many were queued. One message per forward, attempt count and person (the
    key), so telling twice queues nothing new. The detail is the remote's error, never the
    resident's words."""
    case = forward.case
    people = {u.pk: u for u in department_supervisors(case.department_id)}
    for watcher in CaseWatcher.objects.filter(case=case).select_related("user"):
        people.setdefault(watcher.user_id, watcher.user)
    values = {
        "reference": case.reference,
        "title": forward.body.name,  # the body (placeholder "title")
        "note": detail[:300],
        "case_url": public_url(reverse("console:case", args=[case.pk])),
    }
    return staff_mail_queue(
        people.values(),
        key=f"forward-failed:{forward.pk}:{forward.attempts}",
        kind=NotificationKind.FORWARD_FAILED,
        case=case,
        values=values,
    )
