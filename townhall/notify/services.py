"""Writes for notifications: outbox rows from case events, sending with retries, opt-outs.

A notification is written in the transaction of the event that causes it (see
`townhall.cases.dispatch`), and workers send it afterwards: at least once, with the
notification's key as the provider's idempotency key so a receiver can drop repeats.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import formats, timezone, translation

from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.core import clock
from townhall.core.errors import NotFound
from townhall.core.tasks import enqueue_once_on_commit
from townhall.notify.channels import ChannelError, OutgoingMessage, channel_adapter
from townhall.notify.models import (
    DeliveryAttempt,
    Notification,
    NotificationKind,
    NotificationStatus,
    NotificationTemplate,
    NotifyChannel,
    OptOut,
)
from townhall.notify.rendering import sms_fit, template_render
from townhall.notify.selectors import default_templates, notification_template_get
from townhall.notify.webhooks import webhooks_queue_for_case_event
from townhall.people.models import Channel, Citizen, ContactKind
from townhall.people.selectors import citizen_by_contact, citizen_contact

logger = logging.getLogger(__name__)

OPT_OUT_SALT = "townhall.notify.opt-out"
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})


# --- from case events to outbox rows --------------------------------------------------


def _kind_for(event: CaseEvent) -> NotificationKind | None:
    if event.kind == CaseEventKind.ACKNOWLEDGED:
        return NotificationKind.ACKNOWLEDGED
    if event.kind == CaseEventKind.PUBLIC_UPDATE:
        return NotificationKind.PUBLIC_UPDATE
    if event.kind == CaseEventKind.REOPENED:
        return NotificationKind.REOPENED
    if event.kind in {CaseEventKind.RESUMED, CaseEventKind.PRIORITY_CHANGED}:
        return NotificationKind.SLA_DATE_CHANGED
    if event.kind == CaseEventKind.STATUS_CHANGED:
        to = event.data.get("to")
        if to == CaseStatus.AWAITING_CITIZEN:
            return NotificationKind.AWAITING_REPLY
        if to == CaseStatus.RESOLVED:
            return NotificationKind.RESOLVED
        return NotificationKind.STATUS_CHANGED
    return None


def _channel_for(citizen: Citizen) -> tuple[str, str]:
    """Return (channel, address): the resident's choice if we can reach them there."""
    email = citizen_contact(citizen=citizen, kind=ContactKind.EMAIL)
    phone = citizen_contact(citizen=citizen, kind=ContactKind.PHONE)
    if citizen.preferred_channel == Channel.SMS and phone:
        return NotifyChannel.SMS, phone
    if email:
        return NotifyChannel.EMAIL, email
    if phone:
        return NotifyChannel.SMS, phone
    return NotifyChannel.INAPP, str(citizen.pk)


def _public_url(path: str) -> str:
    return f"{settings.TOWNHALL_PUBLIC_URL.rstrip('/')}{path}"


def opt_out_token(*, citizen_id: int, channel: str) -> str:
    """Return the signed token of a one-click opt-out link."""
    return signing.dumps({"c": citizen_id, "ch": channel}, salt=OPT_OUT_SALT, compress=True)


def _values(case: Case, citizen: Citizen, channel: str, language: str, note: str) -> dict[str, str]:
    with translation.override(language):
        expected = formats.date_format(case.expected_on, "l j F Y") if case.expected_on else ""
        status = str(CaseStatus(case.status).label)
    return {
        "name": citizen.display_name or "resident",
        "reference": case.reference,
        "service": case.service_type.name,
        "status": status,
        "expected_date": expected,
        "note": note,
        "tracking_url": _public_url(f"/track/?reference={case.reference}"),
        # Surveys arrive with the experience app; until then the link is the tracking page.
        "survey_url": _public_url(f"/track/?reference={case.reference}"),
        "unsubscribe_url": _public_url(
            f"/notifications/stop/{opt_out_token(citizen_id=citizen.pk, channel=channel)}/"
        ),
        "council": case.service_type.jurisdiction.name,
        "address": case.address,
    }


def notification_for_case_event(event: CaseEvent) -> Notification | None:
    """Queue the message a case event owes its reporter; return it, or None if none is owed.

    Runs inside the event's transaction (a case-event subscriber). Idempotent: the key
    (event, recipient, channel) is unique, so a second call returns the existing row.
    """
    kind = _kind_for(event)
    # Internal events stay internal, except a new expected date: the resident must know.
    if kind is None or (not event.public and kind != NotificationKind.SLA_DATE_CHANGED):
        return None
    case = Case.objects.select_related("reporter", "service_type__jurisdiction").get(
        pk=event.case_id
    )
    if webhooks_queue_for_case_event(case=case, event=event, kind=kind):
        _wake_senders()
    citizen = case.reporter
    if citizen is None:
        return None
    if kind == NotificationKind.SLA_DATE_CHANGED and event.data.get("due_at") is None:
        return None
    channel, address = _channel_for(citizen)
    language = citizen.preferred_language or settings.LANGUAGE_CODE
    key = f"case-event:{event.pk}:citizen:{citizen.pk}:{channel}"
    template = notification_template_get(kind=kind, channel=channel, language=language)
    note = str(event.data.get("note") or event.data.get("text") or "")
    values = _values(case, citizen, channel, template.language, note)
    now = event.at  # when it happened: the quiet hours and the outbox order follow it
    status = NotificationStatus.QUEUED
    if OptOut.objects.filter(citizen=citizen, channel=channel).exists():
        status = NotificationStatus.SUPPRESSED
    next_attempt = now
    if channel == NotifyChannel.SMS:
        next_attempt = quiet_hours_end(now)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                key=key,
                kind=kind,
                channel=channel,
                language=template.language,
                citizen=citizen,
                case_id=case.pk,
                to=address,
                subject=template_render(template.subject, values),
                body=_fit(channel, template_render(template.body, values)),
                status=status,
                next_attempt_at=next_attempt,
                created_at=now,
            )
    except IntegrityError:
        return Notification.objects.get(key=key)
    if status == NotificationStatus.QUEUED:
        _wake_senders()
    return notification


def _fit(channel: str, body: str) -> str:
    # A long note or link must not turn one text into a costly chain of them.
    return sms_fit(body) if channel == NotifyChannel.SMS else body


def notification_templates_install() -> int:
    """Copy the packaged default templates the council has not got yet; return how many."""
    existing = set(NotificationTemplate.objects.values_list("kind", "channel", "language"))
    rows = [
        NotificationTemplate(
            kind=kind, channel=channel, language=language, subject=text.subject, body=text.body
        )
        for (kind, channel, language), text in default_templates().items()
        if (kind, channel, language) not in existing
    ]
    NotificationTemplate.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _wake_senders() -> None:
    from townhall.notify.tasks import notification_send_due_task  # tasks import services

    enqueue_once_on_commit(notification_send_due_task)


def quiet_hours_end(now: datetime) -> datetime:
    """Return `now`, or the end of the SMS quiet hours if `now` falls inside them."""
    window = settings.TOWNHALL_SMS_QUIET_HOURS
    if not window:
        return now
    start, end = (datetime.strptime(t, "%H:%M").time() for t in window)  # noqa: DTZ007 - times of day
    local = timezone.localtime(now)
    t = local.time()
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return now
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=local.tzinfo)


# --- sending --------------------------------------------------------------------------


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
    the next run puts those rows back in the queue, so delivery is at least once and a
    repeat carries the same idempotency key.
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
            done.append(notification)
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
        status_callback_url=_public_url("/hooks/sms/status/")
        if notification.channel == NotifyChannel.SMS
        else None,
    )


def _unsubscribe_url(notification: Notification) -> str | None:
    if notification.citizen_id is None or notification.channel != NotifyChannel.EMAIL:
        return None
    token = opt_out_token(citizen_id=notification.citizen_id, channel=notification.channel)
    return _public_url(f"/notifications/stop/{token}/")


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
        _wake_senders()
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


# --- opting out -----------------------------------------------------------------------


def opt_out_record(*, citizen: Citizen, channel: str, via: str) -> OptOut:
    """Stop sending `citizen` messages on `channel` and drop what is still queued there."""
    with transaction.atomic():
        opt_out, _ = OptOut.objects.get_or_create(
            citizen=citizen, channel=channel, defaults={"via": via}
        )
        Notification.objects.filter(
            citizen=citizen, channel=channel, status=NotificationStatus.QUEUED
        ).update(status=NotificationStatus.SUPPRESSED)
    return opt_out


def opt_out_by_token(*, token: str) -> OptOut:
    """Apply a one-click opt-out link; raise NotFound if the link is not one of ours."""
    try:
        data: dict[str, Any] = signing.loads(token, salt=OPT_OUT_SALT)
        citizen = Citizen.objects.get(pk=int(data["c"]))
        channel = NotifyChannel(data["ch"])
    except (signing.BadSignature, KeyError, ValueError, TypeError, Citizen.DoesNotExist) as exc:
        raise NotFound("That link is not valid.") from exc
    return opt_out_record(citizen=citizen, channel=channel, via="link")


def sms_inbound_keyword(*, from_number: str, body: str) -> str | None:
    """Apply STOP/START replies from a phone; return the reply to send, or None if not a keyword."""
    word = body.strip().upper()
    if word not in STOP_WORDS | START_WORDS:
        return None
    citizen = citizen_by_contact(kind=ContactKind.PHONE, value=from_number)
    if word in STOP_WORDS:
        if citizen is not None:
            opt_out_record(citizen=citizen, channel=NotifyChannel.SMS, via="stop_reply")
        return "You will get no more texts from us. Reply START to get them again."
    if citizen is not None:
        OptOut.objects.filter(citizen=citizen, channel=NotifyChannel.SMS).delete()
    return "Texts are back on. Reply STOP to stop them."
