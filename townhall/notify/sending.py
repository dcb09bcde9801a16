"""Sending the outbox: batches claimed with SKIP LOCKED, paced, retried with backoff,
dead-lettered with a reason; and what providers report afterwards."""

from __future__ import annotations

import logging
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from townhall.core import clock
from townhall.core.errors import NotFound
from townhall.core.tasks import enqueue_once_on_commit
from townhall.notify.attachments import message_attachments
from townhall.notify.channels import ChannelError, OutgoingMessage, channel_adapter
from townhall.notify.links import opt_out_url, public_url
from townhall.notify.models import DeliveryAttempt, Notification, NotificationStatus, NotifyChannel
from townhall.notify.secret_links import secret_link_make

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

    The batch is claimed with `SELECT … FOR UPDATE SKIP LOCKED`, marked `sending` with a
    lease and a claim token of this run. A sender that dies mid-batch leaves leases that
    expire: the next run puts those rows back in the queue, so delivery is at least once.

    Fencing: a batch may outlive its lease (a slow provider, a paused process) while
    another sender takes the expired rows over. So before each message is handed to the
    provider this run checks its lease: with less than half of it left, it renews it on
    the rows that still carry its token (one UPDATE for the rest of the batch) and skips
    every row taken over. Each outcome is written with its delivery attempt in one
    transaction, on the same condition, so a run never overwrites a row it lost.
    Only a single send that outlasts half the lease can still be repeated (with the same
    idempotency key): keep TOWNHALL_NOTIFY_LEASE_SECONDS above twice the providers'
    timeouts.
    """
    at = now or clock.now()
    started = time.monotonic()
    lease = timedelta(seconds=settings.TOWNHALL_NOTIFY_LEASE_SECONDS)
    Notification.objects.filter(status=NotificationStatus.SENDING, next_attempt_at__lt=at).update(
        status=NotificationStatus.QUEUED, lease_token=""
    )
    token = secrets.token_hex(8)
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
            lease_token=token,
        )
    batch = list(
        Notification.objects.filter(pk__in=ids, lease_token=token).order_by("next_attempt_at", "pk")
    )
    throttled: dict[str, datetime] = {}  # channel -> when its provider lets us try again
    held_until = at + lease  # the lease end written on every row this run still holds
    held = {n.pk for n in batch}
    lost = 0
    for index, notification in enumerate(batch):
        mine = Notification.objects.filter(
            pk=notification.pk, status=NotificationStatus.SENDING, lease_token=token
        )
        if notification.channel in throttled:
            # The provider said "too many": put the rest back untouched, no attempt spent.
            mine.update(
                status=NotificationStatus.QUEUED,
                next_attempt_at=throttled[notification.channel],
                attempts=F("attempts") - 1,
                lease_token="",
            )
            continue
        _pace(notification.channel)
        # The fence, checked before every message: with less than half the lease left,
        # renew it on the rest of the batch, keeping only the rows that still carry this
        # run's token (another sender requeues an expired row, clearing the token).
        current = at + _since(started)
        if held_until - current < lease / 2:
            held_until = current + lease
            rest = [n.pk for n in batch[index:] if n.pk in held]
            ours = Notification.objects.filter(
                pk__in=rest, status=NotificationStatus.SENDING, lease_token=token
            )
            ours.update(next_attempt_at=held_until)
            held = set(ours.values_list("pk", flat=True))
        if notification.pk not in held:
            lost += 1
            continue
        _send_one(notification, token, at, throttled)
    if lost:
        logger.info("%d notification(s) taken over by another sender: skipped", lost)
    return len(batch)


def _outcome_write(
    pk: int, token: str, fields: dict[str, object], attempt: DeliveryAttempt
) -> bool:
    """Write a send's outcome on the row if this run still holds it (`sending` with its
    `token`), and its attempt in any case, atomically; return whether the row was held.
    On PostgreSQL one statement, an UPDATE in a WITH and the INSERT (one round trip, as
    the unfenced write took); elsewhere one transaction."""
    if connection.vendor != "postgresql":
        with transaction.atomic():
            kept = Notification.objects.filter(
                pk=pk, status=NotificationStatus.SENDING, lease_token=token
            ).update(**fields)
            attempt.save(force_insert=True)
        return bool(kept)
    quote = connection.ops.quote_name
    columns = [str(getattr(Notification._meta.get_field(f), "column", f)) for f in fields]
    sets = ", ".join(f"{quote(column)} = %s" for column in columns)
    notifications = quote(Notification._meta.db_table)
    attempts = quote(DeliveryAttempt._meta.db_table)
    sql = (  # names from model metadata, values as parameters
        f"WITH u AS (UPDATE {notifications} SET {sets} "  # noqa: S608
        "WHERE id = %s AND status = %s AND lease_token = %s RETURNING 1) "
        f"INSERT INTO {attempts} (notification_id, at, outcome, detail, duration_ms) "
        "VALUES (%s, %s, %s, %s, %s) RETURNING (SELECT count(*) FROM u)"
    )
    params: list[Any] = [
        *fields.values(),
        pk,
        NotificationStatus.SENDING.value,
        token,
        pk,
        attempt.at,
        attempt.outcome,
        attempt.detail,
        attempt.duration_ms,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return bool(row and row[0])


def _since(started: float) -> timedelta:
    return timedelta(seconds=time.monotonic() - started)


def _send_one(
    notification: Notification,
    token: str,
    at: datetime,
    throttled: dict[str, datetime],
) -> None:
    """Hand one leased notification to its channel; record the outcome and its attempt."""
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
        notification.status = NotificationStatus.DELIVERED if delivered else NotificationStatus.SENT
        notification.provider_message_id = result.provider_message_id
        notification.sent_at = at
        notification.delivered_at = at if delivered else None
        notification.last_error = ""
    sent = notification.status in (NotificationStatus.SENT, NotificationStatus.DELIVERED)
    if sent:
        outcome = DeliveryAttempt.Outcome.SENT
        detail = f"{result.status} {result.provider_message_id}"
    elif notification.status == NotificationStatus.DEAD:
        outcome, detail = DeliveryAttempt.Outcome.DEAD, notification.last_error
    else:
        outcome, detail = DeliveryAttempt.Outcome.RETRY, notification.last_error
    # Recorded at once, not with the batch: a sender killed now repeats at most the one
    # message in flight (with the same idempotency key), and the attempt is never lost.
    fields: dict[str, object] = {
        "status": notification.status,
        "provider_message_id": notification.provider_message_id,
        "sent_at": notification.sent_at,
        "delivered_at": notification.delivered_at,
        "last_error": notification.last_error,
        "lease_token": "",
    }
    if not sent:
        fields["next_attempt_at"] = notification.next_attempt_at
    attempt = DeliveryAttempt(
        notification=notification,
        at=at,
        outcome=outcome,
        detail=detail[:500],
        duration_ms=int((time.perf_counter() - started) * 1000),
    )
    kept = _outcome_write(notification.pk, token, fields, attempt)
    if not kept:
        logger.warning(
            "notification %s: the lease ran out during a send; another sender may repeat "
            "it (same idempotency key). Keep NOTIFY_LEASE_SECONDS above twice the provider's "
            "timeout.",
            notification.pk,
        )


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
        # A sign-in or confirmation link is made now, never stored (secret_links.py).
        body=secret_link_make(notification),
        unsubscribe_url=_unsubscribe_url(notification),
        reply_to=notification.reply_to or None,
        attachments=message_attachments(notification),
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
