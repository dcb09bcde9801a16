"""Every message to a person goes through the outbox: sign-in links, SLA escalations and
watcher / @mention mail are notification kinds with templates per language, retries and
delivery status; a sign-in link is never stored."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from townhall.cases.models import CaseWatcher
from townhall.cases.services import case_open
from townhall.notify.models import (
    DeliveryAttempt,
    Notification,
    NotificationKind,
    NotificationStatus,
)
from townhall.notify.secret_links import LINK_SLOT
from townhall.notify.services import (
    case_watchers_tell,
    notification_send_due,
    sla_escalation_queue,
)
from townhall.people.roles import StaffRole
from townhall.people.services import staff_user_create

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/account/sign-in/(\S+)/")


def _staff(username: str, email: str = "", **extra: Any) -> Any:
    return staff_user_create(
        username=username,
        role=StaffRole.SUPERVISOR,
        password="x-Very-long-password-1",
        email=email,
        **extra,
    )


def test_a_sign_in_link_is_queued_without_its_link_and_made_when_sent(
    client: Client, town: Any
) -> None:
    response = client.post("/account/sign-in/", {"email": "ana@example.org"})
    assert response.status_code == 200
    row = Notification.objects.get(kind=NotificationKind.SIGN_IN_LINK)
    assert row.to == "ana@example.org" and row.citizen_id is None
    assert row.status == NotificationStatus.QUEUED
    # at rest: a slot, no working link (nor any token) in the body
    assert LINK_SLOT in row.body and "/account/sign-in/" not in row.body
    assert not mail.outbox  # nothing sent inside the request

    assert notification_send_due() == 1
    [sent] = mail.outbox
    found = LINK.search(sent.body)
    assert found is not None and sent.to == ["ana@example.org"]
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT and found.group(1) not in row.body
    assert not DeliveryAttempt.objects.filter(detail__contains=found.group(1)).exists()
    assert sent.subject == "Your sign-in link" and "30 minutes" in sent.body
    # the link sent works once
    assert client.post(f"/account/sign-in/{found.group(1)}/").status_code == 302


def test_a_retried_sign_in_mail_carries_a_fresh_link(town: Any, settings: Any) -> None:
    from townhall.notify.secret_links import sign_in_link_queue

    row = sign_in_link_queue(email="bo@example.org", language="es")
    settings.EMAIL_BACKEND = "tests.notify.test_outbox_kinds.RefusingBackend"
    notification_send_due()
    row.refresh_from_db()
    assert row.status == NotificationStatus.QUEUED and row.attempts == 1  # to retry
    assert LINK_SLOT in row.body
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    row.next_attempt_at = row.created_at
    row.save(update_fields=["next_attempt_at"])
    notification_send_due()
    [sent] = mail.outbox
    assert sent.subject == "Su enlace para entrar" and LINK.search(sent.body)


class RefusingBackend:
    def __init__(self, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: list[Any]) -> int:
        raise OSError("connection refused")


def test_the_sla_digest_is_a_staff_notification_queued_once(town: Any) -> None:
    dora = _staff("dora", "dora@council.example.org", first_name="Dora")
    nobody = _staff("nomail")
    first = sla_escalation_queue(user=dora, references=["TH-1", "TH-2"])
    assert first is not None and first.user_id == dora.pk and first.citizen_id is None
    assert first.kind == NotificationKind.SLA_ESCALATION
    assert "2 case(s)" in first.subject and "- TH-1\n- TH-2" in first.body
    assert "/console/queues/breached/" in first.body
    again = sla_escalation_queue(user=dora, references=["TH-2", "TH-1"])
    assert again is not None and again.pk == first.pk  # the same digest: one message
    assert sla_escalation_queue(user=nobody, references=["TH-1"]) is None  # no address
    notification_send_due()
    assert [m.to for m in mail.outbox] == [["dora@council.example.org"]]


def test_watchers_and_mentions_are_told_in_the_consoles_language(town: Any, pothole: Any) -> None:
    keisha = _staff("keisha", "keisha@council.example.org", first_name="Keisha")
    frank = _staff("frank", "frank@council.example.org")
    ines = _staff("ines", "ines@council.example.org")
    gone = _staff("gone", "gone@council.example.org")
    gone.is_active = False
    gone.save()
    case = case_open(service_type=pothole, channel="web", answers={"size": "small"})
    for user in (keisha, frank, ines, gone):
        CaseWatcher.objects.create(case=case, user=user)
    told = case_watchers_tell(
        case=case, actor=keisha, what="Nota: llamar", mentioned={frank.pk}, language="es"
    )
    assert told == 2  # not the actor, not an inactive account
    rows = {n.user_id: n for n in Notification.objects.filter(case_id=case.pk, user__isnull=False)}
    assert set(rows) == {frank.pk, ines.pk}
    assert rows[frank.pk].kind == NotificationKind.STAFF_MENTION
    assert rows[ines.pk].kind == NotificationKind.CASE_WATCH
    assert "Keisha le ha mencionado en" in rows[frank.pk].subject
    assert (
        "Nota: llamar" in rows[ines.pk].body and f"/console/cases/{case.pk}/" in rows[ines.pk].body
    )
    # the same event told twice queues nothing new
    case_watchers_tell(case=case, actor=keisha, what="Nota: llamar", language="es")
    assert Notification.objects.filter(case_id=case.pk, user__isnull=False).count() == 2


def test_only_the_email_channel_calls_send_mail() -> None:
    root = Path(__file__).resolve().parents[2]
    found = subprocess.run(
        ["grep", "-rln", "send_mail", str(root / "townhall")],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert [Path(p).relative_to(root).as_posix() for p in found] == [
        "townhall/notify/channels/email.py"
    ] or not found
