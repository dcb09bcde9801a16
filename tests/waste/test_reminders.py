"""Evening-before reminders go through the notify outbox, once per subscription and day."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from townhall.notify.models import Notification
from townhall.notify.waste_reminders import waste_reminders_queue
from townhall.places.models import Place
from townhall.waste.services import waste_reminder_subscribe

pytestmark = pytest.mark.django_db


def test_the_evening_before_queues_one_reminder_however_often_it_runs(home: Place) -> None:
    # given a resident who wants to hear about garbage and organics
    subscription = waste_reminder_subscribe(
        place=home, email="res@example.org", streams=["organics", "garbage"]
    )
    # when the sweep runs twice on Tuesday evening (18:30 and 19:00 in Toronto)
    for hour in (23, 0):
        day = 17 if hour == 23 else 18
        waste_reminders_queue(now=datetime(2024, 12, day, hour, 30, tzinfo=UTC))
    # then one message for Wednesday 18 December
    message = Notification.objects.get()
    assert message.key == f"waste:{subscription.pk}:2024-12-18"
    assert message.to == "res@example.org" and message.channel == "email"
    assert "Garbage" in message.body and "Food and organics" in message.body


def test_no_reminder_before_the_reminder_time_or_without_a_collection(home: Place) -> None:
    waste_reminder_subscribe(place=home, phone="+14165550100", streams=["recycling"])
    assert waste_reminders_queue(now=datetime(2024, 12, 17, 15, 0, tzinfo=UTC)) == 0  # 10:00
    # recycling is not collected on the 18th in this zone
    assert waste_reminders_queue(now=datetime(2024, 12, 17, 23, 30, tzinfo=UTC)) == 0
    assert waste_reminders_queue(now=datetime(2024, 12, 10, 23, 30, tzinfo=UTC)) == 1
    assert Notification.objects.get().channel == "sms"
