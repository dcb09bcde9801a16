"""The IMAP poller, against a fake mailbox (the mail server is outside the product)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from townhall.cases.models import Case
from townhall.intake.imap import mailbox_poll
from townhall.intake.models import InboundMessage

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).parent / "samples"


class FakeMailbox:
    def __init__(self, messages: dict[bytes, bytes], *, broken: set[bytes] | None = None) -> None:
        self.messages = messages
        self.seen: list[bytes] = []
        self.broken = broken or set()

    def unseen(self) -> list[bytes]:
        return [uid for uid in self.messages if uid not in self.seen]

    def fetch(self, uid: bytes) -> bytes:
        if uid in self.broken:
            raise OSError("connection reset")
        return self.messages[uid]

    def done(self, uid: bytes) -> None:
        self.seen.append(uid)

    def close(self) -> None:
        pass


@pytest.fixture
def mailbox(town: Any, settings: Any) -> FakeMailbox:
    settings.TOWNHALL_INTAKE_FALLBACK_SERVICE = "pothole"
    return FakeMailbox(
        {
            b"1": (SAMPLES / "apple_mail_inline_photo.eml").read_bytes(),
            b"2": (SAMPLES / "outlook_out_of_office.eml").read_bytes(),
            b"3": (SAMPLES / "postfix_bounce.eml").read_bytes(),
            b"4": (SAMPLES / "outlook_html_only.eml").read_bytes(),
        }
    )


def test_a_poll_takes_every_unseen_message_and_only_people_open_cases(
    mailbox: FakeMailbox,
) -> None:
    report = mailbox_poll(mailbox)
    assert report.fetched == 4 and report.failed == 0
    assert report.outcomes == {"opened": 2, "ignored": 2}
    assert mailbox.seen == [b"1", b"2", b"3", b"4"]
    assert Case.objects.filter(channel="email").count() == 2
    assert set(InboundMessage.objects.values_list("source", flat=True)) == {"imap"}


def test_a_message_that_cannot_be_fetched_stays_unseen_and_a_second_pass_adds_nothing(
    mailbox: FakeMailbox,
) -> None:
    mailbox.broken = {b"4"}
    first = mailbox_poll(mailbox)
    assert first.failed == 1 and b"4" not in mailbox.seen
    mailbox.broken = set()
    second = mailbox_poll(mailbox)
    assert second.fetched == 1
    # Processed once even if the server shows the same message again (Message-ID).
    mailbox.seen.remove(b"1")
    mailbox_poll(mailbox)
    assert Case.objects.count() == 2


def test_the_command_says_what_to_set_when_no_mailbox_is_configured(db: None) -> None:
    with pytest.raises(CommandError, match="IMAP_HOST"):
        call_command("intake", "imap", "--once")
