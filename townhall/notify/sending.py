"""Sending the outbox: batches claimed with SKIP LOCKED, paced, retried with backoff,
dead-lettered with a reason; and what providers report afterwards."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F

from townhall.core import clock
from townhall.core.errors import NotFound
from townhall.core.tasks import enqueue_once_on_commit
from townhall.notify.channels import ChannelError, OutgoingMessage, channel_adapter
from townhall.notify.links import opt_out_url, public_url
from townhall.notify.models import DeliveryAttempt, Notification, NotificationStatus, NotifyChannel

logger = logging.getLogger(__name__)


def senders_wake() -> None:
    """Make sure a sending run starts after the current transaction commits."""
    from townhall.notify.tasks import notification_send_due_task  # tasks import this module

    enqueue_once_on_commit(notification_send_due_task)


def retry_delay(*, attempts: int, retry_after: float | None = None) -> timedelta:
    """Return how long to wait before attempt `attempts + 1`: exponential, capped, and
    never sooner than the provider asked."""
    base = settings.TOWNHALL_NOTIFY_RETRY_BASE_SECONDS
    cap = settings.TOWNHALL_NOTIFY_RETRY_CAP_SECONDS
    seconds = min(base * 2 ** max(attempts - 1, 0), cap)
    return timedelta(seconds=max(seconds, retry_after or 0))


def notification_send_due(*, limit: int = 200, now: datetime | None = None) -> int:
    """Send up to `limit` due notifications, oldest due first; return how many were tried.

    The batch is claimed with `SELECT … FOR UPDATE SKIP LOCKED` and marked `sending`
    with a lease, so concurrent senders never take the same row; the results are then
    recorded in one transaction. A sender that dies mid-batch leaves leases that expire:
    the next run puts those rows back in the queue, so delivery is at least once; a
    success is recorded as soon as the provider accepts it, so at most the message in
    flight is repeated, with the same idempotency key.
    """
    at = now or clock.now()
    lease = timedelta(seconds=settings.TOWNHALL_NOTIFY_LEASE_SECONDS)
    Notification.objects.filter(status=NotificationStatus.SENDING, next_attempt_at__lt=at).update(
        status=NotificationStatus.QUEUED
    )
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=NotificationStatus.QUEUED, next_attempt_at__lte=at)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        Notification.objects.filter(pk__in=ids).update(
            status=NotificationStatus.SENDING,
            attempts=F("attempts") + 1,
            next_attempt_at=at + lease,
        )
    batch = list(Notification.objects.filter(pk__in=ids).order_by("next_attempt_at", "pk"))
    attempts: list[DeliveryAttempt] = []
    done: list[Notification] = []
    throttled: dict[str, datetime] = {}  # channel -> when its provider lets us try again
    for notification in batch:
        if notification.channel in throttled:
            # The provider said "too many": put the rest back untouched, no attempt spent.
            notification.status = NotificationStatus.QUEUED
            notification.next_attempt_at = throttled[notification.channel]
            notification.attempts -= 1
            done.append(notification)
            continue
        _pace(notification.channel)
        started = time.perf_counter()
        try:
            result = channel_adapter(notification.channel).send(_message(notification))
        except ChannelError as exc:
            _failure(notification, at, str(exc), exc.retryable, exc.retry_after)
            if exc.code == "rate_limited":
                throttled[notification.channel] = notification.next_attempt_at
        except Exception as exc:
            # A bug or an unexpected library error must not lose the message: retry it.
            logger.exception("notification %s: unexpected error", notification.pk)
            _failure(notification, at, repr(exc), True, None)
        else:
            delivered = result.status == "delivered"
            notification.status = (
                NotificationStatus.DELIVERED if delivered else NotificationStatus.SENT
            )
            notification.provider_message_id = result.provider_message_id
            notification.sent_at = at
            notification.delivered_at = at if delivered else None
            notification.last_error = ""
            # Recorded at once, not with the batch: a sender killed now repeats at most
            # the one message in flight (with the same idempotency key), not the batch.
            Notification.objects.filter(pk=notification.pk).update(
                status=notification.status,
                provider_message_id=notification.provider_message_id,
                sent_at=at,
                delivered_at=notification.delivered_at,
                last_error="",
            )
            attempts.append(
                DeliveryAttempt(
                    notification=notification,
                    at=at,
                    outcome=DeliveryAttempt.Outcome.SENT,
                    detail=f"{result.status} {result.provider_message_id}"[:500],
                    duration_ms=int((time.perf_counter() - started) * 1000),
                )
            )
            continue
        attempts.append(
            DeliveryAttempt(
                notification=notification,
                at=at,
                outcome=DeliveryAttempt.Outcome.DEAD
                if notification.status == NotificationStatus.DEAD
                else DeliveryAttempt.Outcome.RETRY,
                detail=notification.last_error,
                duration_ms=int((time.perf_counter() - started) * 1000),
            )
        )
        done.append(notification)
    with transaction.atomic():
        Notification.objects.bulk_update(
            done,
            [
                "status",
                "provider_message_id",
                "sent_at",
                "delivered_at",
                "last_error",
                "next_attempt_at",
                "attempts",
            ],
        )
        DeliveryAttempt.objects.bulk_create(attempts)
    return len(batch)


_last_send: dict[str, float] = {}


def _pace(channel: str) -> None:
    """Wait so this process sends at most the channel's configured messages per second."""
    rate = settings.TOWNHALL_CHANNEL_RATE_LIMITS.get(channel)
    if not rate:
        return
    wait = _last_send.get(channel, 0.0) + 1.0 / rate - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    _last_send[channel] = time.monotonic()


def _message(notification: Notification) -> OutgoingMessage:
    return OutgoingMessage(
        key=notification.key,
        channel=notification.channel,
        to=notification.to,
        subject=notification.subject,
        body=notification.body,
        unsubscribe_url=_unsubscribe_url(notification),
        reply_to=notification.reply_to or None,
        status_callback_url=public_url("/hooks/sms/status/")
        if notification.channel == NotifyChannel.SMS
        else None,
    )


def _unsubscribe_url(notification: Notification) -> str | None:
    if notification.citizen_id is None or notification.channel != NotifyChannel.EMAIL:
        return None
    return opt_out_url(citizen_id=notification.citizen_id, channel=notification.channel)


def _failure(
    notification: Notification,
    at: datetime,
    error: str,
    retryable: bool,
    retry_after: float | None,
) -> None:
    """Mark a failed try on the instance: queued again after a delay, or dead."""
    dead = not retryable or notification.attempts >= settings.TOWNHALL_NOTIFY_MAX_ATTEMPTS
    notification.status = NotificationStatus.DEAD if dead else NotificationStatus.QUEUED
    notification.next_attempt_at = (
        at if dead else at + retry_delay(attempts=notification.attempts, retry_after=retry_after)
    )
    notification.last_error = error[:500]
    if dead:
        logger.warning(
            "notification %s dead after %d attempt(s): %s",
            notification.pk,
            notification.attempts,
            error,
        )


def notification_retry(*, notification: Notification, now: datetime | None = None) -> Notification:
    """Give a dead or failed notification a fresh set of attempts, starting now.

    Raise NotFound if the notification is neither dead nor failed.
    """
    at = now or clock.now()
    with transaction.atomic():
        updated = Notification.objects.filter(
            pk=notification.pk, status__in=[NotificationStatus.DEAD, NotificationStatus.FAILED]
        ).update(status=NotificationStatus.QUEUED, attempts=0, next_attempt_at=at, last_error="")
        if not updated:
            raise NotFound("Only dead or failed notifications can be retried.")
        senders_wake()
    notification.refresh_from_db()
    return notification


def notification_status_report(*, provider_message_id: str, status: str, detail: str = "") -> int:
    """Record a delivery status a provider reported; return how many notifications matched."""
    mapping = {
        "delivered": NotificationStatus.DELIVERED,
        "failed": NotificationStatus.FAILED,
        "undelivered": NotificationStatus.FAILED,
        "bounced": NotificationStatus.FAILED,
    }
    new_status = mapping.get(status.lower())
    matched = 0
    with transaction.atomic():
        for notification in Notification.objects.select_for_update().filter(
            provider_message_id=provider_message_id
        ):
            matched += 1
            DeliveryAttempt.objects.create(
                notification=notification,
                outcome=DeliveryAttempt.Outcome.PROVIDER_STATUS,
                detail=f"{status} {detail}".strip()[:500],
            )
            if new_status is not None:
                notification.status = new_status
                if new_status == NotificationStatus.DELIVERED:
                    notification.delivered_at = clock.now()
                notification.save(update_fields=["status", "delivered_at"])
    return matched
