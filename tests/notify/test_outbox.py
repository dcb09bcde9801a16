"""The notification outbox: written with the event, sent at least once, retried, never lost."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from townhall.cases.lifecycle import CaseStatus
from townhall.cases.services import (
    case_acknowledge,
    case_note_add,
    case_open,
    case_transition,
)
from townhall.notify.channels.sms import FakeSmsProvider
from townhall.notify.models import DeliveryAttempt, Notification, NotificationStatus, OptOut
from townhall.notify.services import (
    notification_for_case_event,
    notification_retry,
    notification_send_due,
    notification_status_report,
    opt_out_token,
    quiet_hours_end,
    retry_delay,
    sms_inbound_keyword,
)
from townhall.people.models import Citizen
from townhall.people.services import citizen_resolve

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=NY)


@pytest.fixture
def texter(db: None) -> Any:
    return citizen_resolve(name="Tomás", phone="617-555-0142", channel="sms", language="es")


def open_for(service: Any, reporter: Any, **extra: Any) -> Any:
    return case_open(
        service_type=service,
        channel="web",
        answers={"size": "large"},
        description="Hole by the library",
        reporter=reporter,
        opened_at=extra.pop("opened_at", MONDAY_10),
        **extra,
    )


def test_acknowledging_a_case_queues_its_message_in_the_same_transaction(
    pothole: Any, resident: Any
) -> None:
    # given a resident with an e-mail address
    case = open_for(pothole, resident)
    # when the case is acknowledged
    case_acknowledge(case_id=case.pk, now=MONDAY_10)
    # then one e-mail waits in the outbox, in the resident's words
    [message] = Notification.objects.all()
    assert (message.kind, message.channel, message.to) == (
        "acknowledged",
        "email",
        "rosa@example.org",
    )
    assert message.status == NotificationStatus.QUEUED
    assert case.reference in message.subject + message.body
    assert "Wednesday 25 November 2026" in message.body
    assert "/notifications/stop/" in message.body


def test_a_rolled_back_change_queues_no_message(
    pothole: Any, resident: Any, caseworker: Any
) -> None:
    case = open_for(pothole, resident)

    def transition_then_fail() -> None:
        with transaction.atomic():
            case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=caseworker, note="On it")
            raise RuntimeError("the caller failed")

    with pytest.raises(RuntimeError):
        transition_then_fail()
    assert Notification.objects.count() == 0


def test_the_same_event_never_queues_twice(pothole: Any, resident: Any) -> None:
    case = open_for(pothole, resident)
    case_acknowledge(case_id=case.pk)
    event = case.events.get(kind="acknowledged")
    again = notification_for_case_event(event)
    assert again is not None
    assert Notification.objects.count() == 1


@pytest.mark.parametrize(
    ("to", "kind"),
    [
        (CaseStatus.AWAITING_CITIZEN, "awaiting_reply"),
        (CaseStatus.RESOLVED, "resolved"),
        (CaseStatus.REJECTED, "status_changed"),
    ],
)
def test_each_status_change_gets_its_own_kind_of_message(
    pothole: Any, resident: Any, caseworker: Any, to: CaseStatus, kind: str
) -> None:
    case = open_for(pothole, resident)
    case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=caseworker)
    Notification.objects.all().delete()
    case_transition(case=case, to=to, actor=caseworker, note="A note for you")
    assert [(n.kind, "A note for you" in n.body) for n in Notification.objects.all()] == [
        (kind, True)
    ]


def test_internal_notes_and_anonymous_reports_send_nothing(
    pothole: Any, resident: Any, caseworker: Any
) -> None:
    case = open_for(pothole, resident)
    case_note_add(case=case, text="Internal only", actor=caseworker)
    anonymous = open_for(pothole, None)
    case_acknowledge(case_id=anonymous.pk)
    assert Notification.objects.count() == 0


def test_a_resident_who_prefers_texts_gets_a_text_in_their_language(
    pothole: Any, texter: Any, sms_provider: FakeSmsProvider
) -> None:
    case = open_for(pothole, texter)
    case_acknowledge(case_id=case.pk, now=MONDAY_10)
    [message] = Notification.objects.all()
    assert (message.channel, message.language, message.to) == ("sms", "es", "+16175550142")
    assert notification_send_due(now=MONDAY_10 + timedelta(minutes=1)) == 1
    [sent] = sms_provider.sent
    assert sent["To"] == "+16175550142"
    assert case.reference in sent["Body"]
    message.refresh_from_db()
    assert message.status in {NotificationStatus.SENT, NotificationStatus.DELIVERED}
    assert message.provider_message_id.startswith("SM")


def test_a_spanish_speaker_reads_the_service_and_date_in_spanish(pothole: Any) -> None:
    lucia = citizen_resolve(name="Lucía", email="lucia@example.org", language="es")
    case = open_for(pothole, lucia)
    case_acknowledge(case_id=case.pk, now=MONDAY_10)
    [message] = Notification.objects.all()
    assert message.language == "es"
    assert "Solicitud: Bache" in message.body  # the catalogue's Spanish name
    assert " de 2026" in message.body  # "martes 24 de noviembre de 2026"


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (datetime(2026, 11, 23, 20, 59, tzinfo=NY), datetime(2026, 11, 23, 20, 59, tzinfo=NY)),
        (datetime(2026, 11, 23, 21, 0, tzinfo=NY), datetime(2026, 11, 24, 8, 0, tzinfo=NY)),
        (datetime(2026, 11, 24, 2, 30, tzinfo=NY), datetime(2026, 11, 24, 8, 0, tzinfo=NY)),
        (datetime(2026, 11, 24, 8, 0, tzinfo=NY), datetime(2026, 11, 24, 8, 0, tzinfo=NY)),
    ],
)
def test_texts_wait_out_the_quiet_hours(local: datetime, expected: datetime) -> None:
    assert quiet_hours_end(local) == expected


def test_an_e_mail_is_sent_with_a_one_click_unsubscribe(
    pothole: Any, resident: Any, mailoutbox: list[Any]
) -> None:
    case = open_for(pothole, resident)
    case_acknowledge(case_id=case.pk, now=MONDAY_10)
    assert notification_send_due(now=MONDAY_10) == 1
    [mail] = mailoutbox
    assert mail.to == ["rosa@example.org"]
    assert mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    message = Notification.objects.get()
    assert message.status == NotificationStatus.SENT
    assert [a.outcome for a in message.delivery_attempts.all()] == ["sent"]


@pytest.mark.parametrize(
    ("attempts", "retry_after", "seconds"),
    [(1, None, 30), (2, None, 60), (5, None, 480), (20, None, 6 * 3600), (1, 120.0, 120)],
)
def test_retries_back_off_exponentially_and_respect_the_provider(
    attempts: int, retry_after: float | None, seconds: int
) -> None:
    assert retry_delay(attempts=attempts, retry_after=retry_after) == timedelta(seconds=seconds)


def test_a_failing_provider_is_retried_then_the_message_goes_through(
    pothole: Any, texter: Any, sms_provider: FakeSmsProvider
) -> None:
    case = open_for(pothole, texter)
    case_acknowledge(case_id=case.pk, now=MONDAY_10)
    sms_provider.fail_next(500, times=1)
    sms_provider.fail_next(429, times=1, retry_after=120)
    t = MONDAY_10
    assert notification_send_due(now=t) == 1
    message = Notification.objects.get()
    assert (message.status, message.next_attempt_at) == ("queued", t + timedelta(seconds=30))
    assert notification_send_due(now=t + timedelta(seconds=10)) == 0  # not due yet
    t += timedelta(seconds=30)
    notification_send_due(now=t)
    message.refresh_from_db()
    assert message.next_attempt_at == t + timedelta(seconds=120)
    notification_send_due(now=t + timedelta(seconds=120))
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 3)
    assert [a.outcome for a in message.delivery_attempts.all()] == ["retry", "retry", "sent"]
    assert len(sms_provider.sent) == 1


def test_a_permanent_failure_is_dead_lettered_and_an_admin_can_retry_it(
    pothole: Any, texter: Any, sms_provider: FakeSmsProvider
) -> None:
    case = open_for(pothole, texter)
    case_acknowledge(case_id=case.pk, now=MONDAY_10)
    sms_provider.fail_next(400, code="21211")
    notification_send_due(now=MONDAY_10)
    message = Notification.objects.get()
    assert message.status == NotificationStatus.DEAD
    assert "21211" in message.last_error or message.delivery_attempts.get().outcome == "dead"
    notification_retry(notification=message, now=MONDAY_10)
    assert (message.status, message.attempts) == ("queued", 0)
    notification_send_due(now=MONDAY_10 + timedelta(seconds=1))
    message.refresh_from_db()
    assert message.status == NotificationStatus.SENT


def test_retries_stop_at_the_limit(
    pothole: Any, texter: Any, sms_provider: FakeSmsProvider, settings: Any
) -> None:
    settings.TOWNHALL_NOTIFY_MAX_ATTEMPTS = 3
    case = open_for(pothole, texter)
    case_acknowledge(case_id=case.pk, now=MONDAY_10)
    sms_provider.fail_next(503, times=5)
    t = MONDAY_10
    for _ in range(3):
        notification_send_due(now=t)
        t += timedelta(hours=7)
    message = Notification.objects.get()
    assert (message.status, message.attempts) == ("dead", 3)


def test_a_sender_that_died_mid_send_is_taken_over_after_its_lease(
    pothole: Any, resident: Any, mailoutbox: list[Any]
) -> None:
    case = open_for(pothole, resident)
    case_acknowledge(case_id=case.pk, now=MONDAY_10)
    # a worker claimed it and died
    Notification.objects.update(status=NotificationStatus.SENDING, next_attempt_at=MONDAY_10)
    assert notification_send_due(now=MONDAY_10 + timedelta(seconds=1)) == 1
    assert len(mailoutbox) == 1


def test_provider_reports_mark_delivery(
    pothole: Any, texter: Any, sms_provider: FakeSmsProvider
) -> None:
    case = open_for(pothole, texter)
    case_acknowledge(case_id=case.pk, now=MONDAY_10)
    notification_send_due(now=MONDAY_10)
    message = Notification.objects.get()
    assert (
        notification_status_report(
            provider_message_id=message.provider_message_id, status="delivered"
        )
        == 1
    )
    message.refresh_from_db()
    assert message.status == NotificationStatus.DELIVERED
    assert notification_status_report(provider_message_id="SM-unknown", status="delivered") == 0


def test_the_opt_out_link_stops_messages_on_that_channel(
    client: Client, pothole: Any, resident: Any, caseworker: Any
) -> None:
    case = open_for(pothole, resident)
    case_acknowledge(case_id=case.pk)
    token = opt_out_token(citizen_id=resident.pk, channel="email")
    assert client.get(f"/notifications/stop/{token}/").status_code == 200
    response = client.post(f"/notifications/stop/{token}/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert OptOut.objects.filter(citizen=resident, channel="email").exists()
    assert Notification.objects.get().status == NotificationStatus.SUPPRESSED
    case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=caseworker)
    assert Notification.objects.filter(status=NotificationStatus.QUEUED).count() == 0
    assert client.post("/notifications/stop/forged/").status_code == 404


def test_stop_and_start_replies_switch_texts_off_and_on(texter: Any) -> None:
    assert sms_inbound_keyword(from_number="+16175550142", body=" stop ") is not None
    assert OptOut.objects.filter(citizen=texter, channel="sms").exists()
    assert sms_inbound_keyword(from_number="+16175550142", body="START") is not None
    assert not OptOut.objects.exists()
    assert sms_inbound_keyword(from_number="+16175550142", body="Is my bin coming?") is None


@pytest.mark.django_db(transaction=True)
def test_two_workers_send_each_message_exactly_once(
    pothole: Any, sms_provider: FakeSmsProvider
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent workers are exercised on PostgreSQL (DATABASE_URL)")
    # given 40 acknowledged cases from 40 texting residents
    for i in range(40):
        person = citizen_resolve(name=f"R{i}", phone=f"+1617555{1000 + i}", channel="sms")
        case = open_for(pothole, person)
        case_acknowledge(case_id=case.pk, now=MONDAY_10)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            while notification_send_due(limit=5, now=MONDAY_10 + timedelta(minutes=1)):
                pass
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = [m["To"] for m in sms_provider.sent]
    assert len(numbers) == 40
    assert len(set(numbers)) == 40
    assert DeliveryAttempt.objects.filter(outcome="sent").count() == 40


def test_the_default_templates_are_installed_once_for_councils_to_edit(db: None) -> None:
    from townhall.notify.models import NotificationTemplate
    from townhall.notify.services import notification_templates_install

    assert (
        notification_templates_install() == 92
    )  # 48 for case events, 2 follow and 2 subscription confirmations, 2 phone codes,
    # 6 staff mails, 2 sign-in links, 4 bin reminders, 6 delay updates, 2 supervisor flags,
    # 16 appointment messages (4 kinds x e-mail/SMS x en/es), 2 failed forwards (en/es)
    NotificationTemplate.objects.filter(kind="acknowledged", channel="email", language="en").update(
        body="Our own words {{ reference }}"
    )
    assert notification_templates_install() == 0
    assert NotificationTemplate.objects.get(
        kind="acknowledged", channel="email", language="en"
    ).body == ("Our own words {{ reference }}")


def test_a_council_edit_is_used_for_the_next_message(pothole: Any, resident: Any) -> None:
    from townhall.notify.models import NotificationTemplate

    NotificationTemplate.objects.create(
        kind="acknowledged",
        channel="email",
        language="en",
        subject="Got it: {{ reference }}",
        body="Thanks {{ name }}",
    )
    case = open_for(pothole, resident)
    case_acknowledge(case_id=case.pk)
    message = Notification.objects.get()
    assert (message.subject, message.body) == (f"Got it: {case.reference}", "Thanks Rosa Reporter")


def test_a_429_puts_the_rest_of_the_batch_back_without_spending_attempts(
    pothole: Any, sms_provider: FakeSmsProvider
) -> None:
    for i in range(3):
        person = citizen_resolve(name=f"T{i}", phone=f"+1617555{2000 + i}", channel="sms")
        case_acknowledge(case_id=open_for(pothole, person).pk, now=MONDAY_10)
    sms_provider.fail_next(429, retry_after=60)
    assert notification_send_due(now=MONDAY_10) == 3
    assert sms_provider.sent == []
    rows = list(
        Notification.objects.order_by("pk").values_list("status", "attempts", "next_attempt_at")
    )
    resume = MONDAY_10 + timedelta(seconds=60)
    assert rows == [("queued", 1, resume), ("queued", 0, resume), ("queued", 0, resume)]
    assert notification_send_due(now=resume) == 3
    assert len(sms_provider.sent) == 3


def test_sends_are_paced_to_the_configured_rate(
    pothole: Any, sms_provider: FakeSmsProvider, settings: Any
) -> None:
    import time as clock_module

    settings.TOWNHALL_CHANNEL_RATE_LIMITS = {"sms": 20}
    for i in range(5):
        person = citizen_resolve(name=f"P{i}", phone=f"+1617555{3000 + i}", channel="sms")
        case_acknowledge(case_id=open_for(pothole, person).pk, now=MONDAY_10)
    started = clock_module.monotonic()
    notification_send_due(now=MONDAY_10)
    assert clock_module.monotonic() - started >= 4 / 20
    assert len(sms_provider.sent) == 5


def test_public_updates_reopenings_and_new_dates_reach_the_resident(
    pothole: Any, resident: Any, caseworker: Any
) -> None:
    from townhall.cases.services import case_priority_change

    case = open_for(pothole, resident)
    case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=caseworker, now=MONDAY_10)
    case_note_add(case=case, text="Crew booked for Tuesday", actor=caseworker, public=True)
    case_priority_change(case=case, priority="urgent", actor=caseworker, now=MONDAY_10)
    case_transition(case=case, to=CaseStatus.RESOLVED, actor=caseworker, now=MONDAY_10)
    case_transition(case=case, to=CaseStatus.REOPENED, actor=None, now=MONDAY_10)
    kinds = list(Notification.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == [
        "status_changed",
        "public_update",
        "sla_date_changed",
        "resolved",
        "reopened",
    ]
    update = Notification.objects.get(kind="public_update")
    assert "Crew booked for Tuesday" in update.body


def test_a_resident_we_cannot_mail_or_text_gets_the_message_in_the_portal(
    pothole: Any, mailoutbox: list[Any]
) -> None:
    walk_in = Citizen.objects.create(display_name="Walk-in", preferred_channel="counter")
    case = open_for(pothole, walk_in)
    case_acknowledge(case_id=case.pk, now=MONDAY_10)
    message = Notification.objects.get()
    assert (message.channel, message.to) == ("inapp", str(walk_in.pk))
    notification_send_due(now=MONDAY_10)
    message.refresh_from_db()
    assert message.status == NotificationStatus.DELIVERED
    assert mailoutbox == []
