"""The IMAP poller: for councils whose mail provider cannot call a webhook.

Each unseen message is fetched, taken through the pipeline (`intake_email_receive`) and
only then flagged \\Seen, so a crash between the two fetches it again next time; the
Message-ID makes that second delivery a no-op. A message the pipeline refuses (too large)
or cannot take (anything it raises) is quarantined: kept as a REJECTED InboundMessage with
its raw text, flagged \\Seen, and the poll carries on with the next one. The mailbox is
an adapter (`Mailbox`), with `ImapMailbox` for a real server and a fake for tests.
"""

from __future__ import annotations

import imaplib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from townhall.core.errors import ValidationFailed
from townhall.intake.channels import intake_email_receive
from townhall.intake.services import intake_quarantine
from townhall.people.models import Channel

logger = logging.getLogger(__name__)


class Mailbox(Protocol):
    def unseen(self) -> list[bytes]:
        """Ids of the messages not yet processed, oldest first."""

    def fetch(self, uid: bytes) -> bytes:
        """The raw RFC 5322 message."""

    def done(self, uid: bytes) -> None:
        """Mark the message processed (\\Seen)."""

    def close(self) -> None: ...


class ImapMailbox:
    """A folder on an IMAP server, by UID."""

    def __init__(
        self, *, host: str, port: int, user: str, password: str, folder: str, ssl: bool
    ) -> None:
        self.conn: imaplib.IMAP4 = (
            imaplib.IMAP4_SSL(host, port) if ssl else imaplib.IMAP4(host, port)
        )
        self.conn.login(user, password)
        status, _data = self.conn.select(folder)
        if status != "OK":
            raise ConnectionError(f"IMAP folder {folder!r} cannot be opened")

    def unseen(self) -> list[bytes]:
        status, data = self.conn.uid("SEARCH", "UNSEEN")
        if status != "OK" or not data or not data[0]:
            return []
        return list(data[0].split())

    def fetch(self, uid: bytes) -> bytes:
        status, data = self.conn.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
        for part in data or []:
            if isinstance(part, tuple) and len(part) == 2:
                return bytes(part[1])
        raise ConnectionError(f"IMAP message {uid!r} could not be fetched ({status})")

    def done(self, uid: bytes) -> None:
        self.conn.uid("STORE", uid.decode(), "+FLAGS", "(\\Seen)")

    def close(self) -> None:
        try:
            self.conn.close()
            self.conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


@dataclass
class PollReport:
    fetched: int = 0
    outcomes: dict[str, int] | None = None
    failed: int = 0
    quarantined: int = 0

    def count(self, outcome: str) -> None:
        self.outcomes = self.outcomes or {}
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def _quarantine(raw: bytes, uid: bytes, reason: str) -> bool:
    """Keep the message as REJECTED; False (it stays unseen) if even that fails."""
    logger.warning("imap: message %s quarantined: %s", uid, reason)
    try:
        intake_quarantine(channel=Channel.EMAIL, raw=raw, source="imap", reason=reason)
    except Exception:
        logger.exception("imap: message %s could not be quarantined", uid)
        return False
    return True


def mailbox_poll(
    mailbox: Mailbox, *, limit: int = 500, progress: Callable[[int, int], None] | None = None
) -> PollReport:
    """Take every unseen message (at most `limit`) through the pipeline; return counts."""
    report = PollReport()
    uids = mailbox.unseen()[:limit]
    for n, uid in enumerate(uids, start=1):
        try:
            raw = mailbox.fetch(uid)
        except (OSError, imaplib.IMAP4.error):
            logger.exception("imap: message %s could not be fetched", uid)
            report.failed += 1
            continue  # the server's problem, not the message's: fetched again next time
        report.fetched += 1
        try:
            result = intake_email_receive(raw, source="imap")
            report.count(result.message.outcome)
        except Exception as exc:  # one bad message never stops the poller
            if not isinstance(exc, ValidationFailed):  # too large: refused, nothing broke
                logger.exception("imap: message %s could not be taken in", uid)
            reason = exc.message if isinstance(exc, ValidationFailed) else type(exc).__name__
            if not _quarantine(raw, uid, reason):
                report.failed += 1
                continue
            report.quarantined += 1
        mailbox.done(uid)
        if progress is not None:
            progress(n, len(uids))
    return report
