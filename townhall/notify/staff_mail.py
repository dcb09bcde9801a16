"""Mail to staff through the outbox: the SLA escalation digest to supervisors, and what
happened on a case to the colleagues watching it (or @mentioned on it).

Addressed to the staff user (Notification.user) at their account's e-mail address. No
resident opt-out applies: an escalation is part of a supervisor's job, and a watcher stops
the mail by no longer watching the case. Each kind has templates per language, and the
outbox's retries, dead letters and delivery status.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse

from townhall.cases.models import Case, CaseEvent, CaseWatcher
from townhall.notify.links import public_url
from townhall.notify.models import Notification, NotificationKind, NotifyChannel
from townhall.notify.queueing import templated_queue

if TYPE_CHECKING:
    from townhall.core.users import StaffUser

DIGEST_MAX_LINES = 200


def _reachable(user: StaffUser) -> bool:
    return bool(user.email) and bool(user.is_active)


def sla_escalation_queue(*, user: StaffUser, references: list[str]) -> Notification | None:
    """Queue one e-mail telling a supervisor which of their departments' cases just passed
    their due date; None if they have no address.

    The SLA scan hands each digest over through settings.TOWNHALL_SLA_ESCALATION_HANDLER
    (cases cannot import notify). The key is the user and the set of references (a case
    breaches once), so handing the same digest over twice queues one message."""
    if not references or not _reachable(user):
        return None
    digest = hashlib.sha256("\n".join(sorted(references)).encode()).hexdigest()[:24]
    lines = "\n".join(f"- {ref}" for ref in references[:DIGEST_MAX_LINES])
    if len(references) > DIGEST_MAX_LINES:
        lines += f"\n… (+{len(references) - DIGEST_MAX_LINES})"
    return templated_queue(
        key=f"sla-escalation:{user.pk}:{digest}",
        kind=NotificationKind.SLA_ESCALATION,
        channel=NotifyChannel.EMAIL,
        to=user.email,
        user=user,
        language=settings.LANGUAGE_CODE,
        values={
            "count": str(len(references)),
            "references": lines,
            "case_url": public_url(reverse("console:queue", args=["breached"])),
        },
    )


def case_watchers_tell(
    *,
    case: Case,
    actor: StaffUser,
    what: str,
    mentioned: set[int] | None = None,
    language: str = "",
) -> int:
    """Queue an e-mail to everyone watching `case` (but `actor`, who did it) saying what
    just happened: `what`, already in words. Those in `mentioned` (user ids) get the
    "mentioned you" kind. Return how many were queued; one per watcher and case event."""
    watchers = [
        w.user
        for w in CaseWatcher.objects.filter(case=case).select_related("user")
        if w.user_id != actor.pk and _reachable(w.user)
    ]
    if not watchers:
        return 0
    event = CaseEvent.objects.filter(case_id=case.pk).order_by("-seq").values_list("pk").first()
    values = {
        "actor": actor.get_full_name() or actor.get_username(),
        "reference": case.reference,
        "note": what,
        "case_url": public_url(reverse("console:case", args=[case.pk])),
    }
    for user in watchers:
        kind = (
            NotificationKind.STAFF_MENTION
            if mentioned and user.pk in mentioned
            else NotificationKind.CASE_WATCH
        )
        templated_queue(
            key=f"case-watch:{case.pk}:{event[0] if event else 0}:{user.pk}",
            kind=kind,
            channel=NotifyChannel.EMAIL,
            to=user.email,
            user=user,
            case_id=case.pk,
            language=language,
            values=values,
        )
    return len(watchers)
