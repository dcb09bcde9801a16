"""Crash test: kill -9 the sender in the middle of a 10,000-message fan-out, start it
again, and check every message reached the provider exactly once (by idempotency key)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from townhall.notify.alerts import alert_fan_out, alert_publish
from townhall.notify.channels.fakes import file_provider_received
from townhall.notify.models import AlertSubscription, AlertTopic, Notification
from townhall.people.models import Citizen, ContactPoint

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
MESSAGES = 10_000


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "townhall", "notify_send", "--batch", "100", "--idle", "0.2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(predicate: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_a_killed_sender_loses_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs a database it can share (PostgreSQL)")
    # given 10,000 residents subscribed to road works, and an alert fanned out to them
    topic = AlertTopic.objects.create(code="roadworks", name="Road works")
    citizens = Citizen.objects.bulk_create(Citizen(display_name=f"R{i}") for i in range(MESSAGES))
    ContactPoint.objects.bulk_create(
        ContactPoint(citizen=c, kind="email", value=f"r{c.pk}@example.org") for c in citizens
    )
    AlertSubscription.objects.bulk_create(
        AlertSubscription(citizen=c, topic=topic, channel="email") for c in citizens
    )
    alert = alert_publish(topic=topic, title="Main Street closed", message="Until 6pm.")
    assert alert_fan_out(alert_id=alert.pk) == MESSAGES
    db = connection.settings_dict
    provider_file = tmp_path / "provider.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings_fault",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "TOWNHALL_FAKE_PROVIDER_FILE": str(provider_file),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    # when the sender is killed without warning part-way through
    worker = _worker(env)
    try:
        assert _wait(lambda: len(file_provider_received(provider_file)) >= 1500, 120)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        sent_before_kill = len(file_provider_received(provider_file))
        assert sent_before_kill < MESSAGES
        # and started again
        worker = _worker(env)
        finished = _wait(
            lambda: Notification.objects.filter(status="sent").count() == MESSAGES, 300
        )
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    # then every message was sent, and the provider saw each key once; the only possible
    # repeat is the message in flight at the kill, and it carries the same key
    assert finished
    received = file_provider_received(provider_file)
    expected = set(Notification.objects.values_list("key", flat=True))
    assert set(received) == expected
    repeats = sum(n - 1 for n in Counter(received).values())
    assert repeats <= 1  # at most the one message in flight at the kill
    print(f"crash test: {sent_before_kill} sent before the kill, {repeats} repeated key(s)")
