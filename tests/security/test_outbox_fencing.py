"""Outbox fencing (issue 15): a sender whose lease has run out cannot send.

Before the fence, a batch that outlived its lease was sent twice: another sender put the
expired rows back in the queue and sent them while the first one carried on through its
batch. With a tiny lease and a slow provider, every message must reach the provider once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from townhall.notify import sending
from townhall.notify.channels.base import OutgoingMessage, SendResult
from townhall.notify.channels.registry import channel_adapters_reset
from townhall.notify.models import DeliveryAttempt, Notification, NotificationStatus
from townhall.notify.services import notification_send_due

MESSAGES = 100


class SlowProvider:
    """A provider that takes `delay` seconds per message and remembers every key it got."""

    name = "sms"

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.sent: list[str] = []
        self.lock = threading.Lock()
        self.during_send: Callable[[], None] | None = None

    def send(self, message: OutgoingMessage) -> SendResult:
        time.sleep(self.delay)
        with self.lock:
            self.sent.append(message.key)
        if self.during_send is not None:
            self.during_send()
        return SendResult(provider_message_id=message.key, status="sent")


@pytest.fixture
def slow_provider(settings: Any) -> Iterator[SlowProvider]:
    provider = SlowProvider(delay=0.01)
    settings.TOWNHALL_CHANNELS = {"sms": {"BACKEND": lambda: provider}}
    settings.TOWNHALL_NOTIFY_LEASE_SECONDS = 0.15  # a tiny lease: 100 sends take ~1 s
    settings.TOWNHALL_CHANNEL_RATE_LIMITS = {}
    channel_adapters_reset()
    yield provider
    channel_adapters_reset()


def _queue(count: int) -> None:
    due = timezone.now() - timedelta(seconds=1)
    Notification.objects.bulk_create(
        Notification(
            key=f"fence-{i}",
            kind="status_changed",
            channel="sms",
            to=f"+1617555{i:04d}",
            body="Your request was updated.",
            next_attempt_at=due,
        )
        for i in range(count)
    )


def _assert_each_sent_once(provider: SlowProvider) -> None:
    repeats = {key: n for key, n in Counter(provider.sent).items() if n > 1}
    assert repeats == {}, f"{len(repeats)} of {MESSAGES} sent more than once"
    assert len(provider.sent) == MESSAGES
    assert (
        Notification.objects.filter(status=NotificationStatus.SENT, lease_token="").count()
        == MESSAGES
    )
    # each hand-over is written with its outcome: one "sent" attempt per message
    assert DeliveryAttempt.objects.filter(outcome="sent").count() == MESSAGES
    assert set(DeliveryAttempt.objects.values_list("notification_id", flat=True)) == set(
        Notification.objects.values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_a_batch_that_outlives_its_lease_is_sent_once(slow_provider: SlowProvider) -> None:
    # given 100 texts, and a second sender that wakes every tenth message of the first
    _queue(MESSAGES)
    calls = {"n": 0, "inner": False}

    def second_sender() -> None:
        calls["n"] += 1
        if calls["inner"] or calls["n"] % 10:
            return
        calls["inner"] = True
        try:
            notification_send_due(limit=MESSAGES)  # takes over every expired lease
        finally:
            calls["inner"] = False

    slow_provider.during_send = second_sender
    # when the first sender claims all 100 and its batch outlives the lease
    assert notification_send_due(limit=MESSAGES) == MESSAGES
    slow_provider.during_send = None
    while notification_send_due(limit=MESSAGES):  # whatever is left over
        pass
    # then the second sender took over the tail and the first skipped it: nothing twice
    assert calls["n"] >= 10
    _assert_each_sent_once(slow_provider)


@pytest.mark.django_db
def test_a_sender_paused_past_its_lease_skips_what_another_took_over(
    slow_provider: SlowProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    _queue(MESSAGES)
    calls = {"n": 0}
    taken_over: list[int] = []

    def pace(channel: str) -> None:
        calls["n"] += 1
        if calls["n"] == 10:
            # the first sender stalls past its lease before its tenth message (a long GC,
            # a paused VM) while a second sender requeues the expired rows and sends them
            time.sleep(0.3)
            monkeypatch.setattr(sending, "_pace", lambda channel: None)
            taken_over.append(notification_send_due(limit=MESSAGES))

    monkeypatch.setattr(sending, "_pace", pace)
    assert notification_send_due(limit=MESSAGES) == MESSAGES
    assert taken_over == [MESSAGES - 9]
    assert notification_send_due(limit=MESSAGES) == 0
    _assert_each_sent_once(slow_provider)


@pytest.mark.django_db(transaction=True)
def test_three_senders_with_a_tiny_lease_repeat_nothing(slow_provider: SlowProvider) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent senders in threads need PostgreSQL (DATABASE_URL)")
    _queue(MESSAGES)
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and (
                notification_send_due(limit=30)
                or Notification.objects.exclude(status=NotificationStatus.SENT).exists()
            ):
                time.sleep(0.01)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    _assert_each_sent_once(slow_provider)


@pytest.mark.django_db
def test_a_sender_that_lost_its_lease_cannot_overwrite_the_new_owner(
    slow_provider: SlowProvider,
) -> None:
    _queue(1)
    row = Notification.objects.get()

    def taken_over_during_send() -> None:
        # another sender takes the row over while this one is still talking to the provider
        Notification.objects.filter(pk=row.pk).update(lease_token="someone-else", attempts=7)

    slow_provider.during_send = taken_over_during_send
    notification_send_due(limit=1)
    row.refresh_from_db()
    assert (row.status, row.lease_token, row.attempts) == ("sending", "someone-else", 7)
    # the hand-over that did happen is still on record
    assert DeliveryAttempt.objects.filter(notification=row, outcome="sent").count() == 1
