"""What notifications hold of a resident, cleared on erasure or cut out of a case's messages."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from townhall.notify.models import (
    AlertSubscription,
    DeliveryAttempt,
    Notification,
    NotificationStatus,
    OptOut,
    SubscriptionRequest,
)
from townhall.people.models import ContactPoint
from townhall.waste.models import WasteReminder


def notifications_personal_data_clear(*, citizen_id: int) -> int:
    """Blank what was sent to a resident (address, subject, rendered body, provider
    details), also what went to their addresses before they were known (sign-in links,
    confirmations), and drop their opt-outs, alert and bin reminder subscriptions and
    unconfirmed sign-ups; the rows of sent notifications stay, with kind, channel, status
    and dates, for statistics."""
    values = list(
        ContactPoint.objects.filter(citizen_id=citizen_id).values_list("value", flat=True)
    )
    with transaction.atomic():
        mine = Q(citizen_id=citizen_id) | Q(to__in=values, citizen__isnull=True, user__isnull=True)
        ids = list(Notification.objects.filter(mine).values_list("pk", flat=True))
        # Nothing still waiting goes out to an address that is no longer there.
        Notification.objects.filter(
            pk__in=ids, status__in=[NotificationStatus.QUEUED, NotificationStatus.SENDING]
        ).update(status=NotificationStatus.SUPPRESSED)
        Notification.objects.filter(pk__in=ids).update(
            to="", reply_to="", subject="", body="", last_error="", citizen=None
        )
        DeliveryAttempt.objects.filter(notification_id__in=ids).update(detail="")
        OptOut.objects.filter(citizen_id=citizen_id).delete()
        AlertSubscription.objects.filter(citizen_id=citizen_id).delete()
        SubscriptionRequest.objects.filter(email__in=values).delete()
        WasteReminder.objects.filter(Q(email__in=values) | Q(phone__in=values)).delete()
    return len(ids)


def notifications_redact(*, case_ids: list[int], texts: list[str]) -> int:
    """Cut `texts` (an erased case's address, a name) out of what was sent to anyone
    about the cases `case_ids` (followers' updates quote the case's address); the rest of
    each message stays. Return how many notifications changed."""
    texts = sorted({t for t in texts if len(t.strip()) >= 3}, key=len, reverse=True)
    if not case_ids or not texts:
        return 0
    changed = 0
    with transaction.atomic():
        rows = Notification.objects.select_for_update().filter(case_id__in=case_ids)
        for notification in rows.only("pk", "subject", "body"):
            subject, body = notification.subject, notification.body
            for text in texts:
                subject, body = subject.replace(text, "[erased]"), body.replace(text, "[erased]")
            if (subject, body) != (notification.subject, notification.body):
                Notification.objects.filter(pk=notification.pk).update(subject=subject, body=body)
                changed += 1
    return changed
