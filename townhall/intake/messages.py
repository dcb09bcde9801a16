"""The one shape every channel adapter turns what arrives into."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from townhall.cases.photos import CleanPhoto


class Dedupe(StrEnum):
    """What to do with a likely duplicate of an open case."""

    # Link a high-confidence duplicate as a follower ("me too"); suggest the rest to staff.
    AUTO = "auto"
    # Only suggest to staff: the resident or agent already saw the nearby reports and chose
    # to send a new one (portal, phone form), or the caller owns the id it gets (Open311).
    SUGGEST = "suggest"


@dataclass(frozen=True)
class Sender:
    email: str = ""
    phone: str = ""
    handle: str = ""
    name: str = ""
    language: str = ""

    @property
    def given(self) -> bool:
        return bool(self.email or self.phone or self.handle)

    @property
    def key(self) -> str:
        """The first contact value given, lower-cased: what rate limits count by."""
        return (self.email or self.phone or self.handle).strip().lower()[:254]


@dataclass(frozen=True)
class Place:
    lat: float | None = None
    long: float | None = None
    address: str = ""
    address_id: str = ""

    @property
    def has_point(self) -> bool:
        return self.lat is not None and self.long is not None


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False


@dataclass(frozen=True)
class Message:
    """A normalised message from any channel.

    `thread_hint` is a case reference the channel found (in a subject, a signed reply
    address or a text); `automatic` is the adapter's reason for calling it machine mail
    (an auto-reply, a bounce, our own mail coming back), which never becomes a case.
    `service_code` is set when the resident or agent chose the service (portal, Open311,
    phone form); otherwise triage proposes one from the text.
    """

    channel: str
    sender: Sender = Sender()
    text: str = ""
    subject: str = ""
    attachments: tuple[Attachment, ...] = ()
    photos: tuple[CleanPhoto, ...] = ()
    place: Place = Place()
    thread_hint: str = ""
    # The hint came from the case's signed reply address (only the people we wrote to
    # have it), so the message may speak for the resident; a reference in a subject or a
    # text proves nothing about who sends it.
    thread_signed: bool = False
    external_id: str = ""
    source: str = ""
    raw: str = ""
    automatic: str = ""
    service_code: str = ""
    # The council the message was sent to, when the channel knows it (a partner webhook
    # bound to one): `service_code` is looked up in it.
    jurisdiction_id: int | None = None
    service: Any = None  # the ServiceType itself, when the caller already has it
    answers: Mapping[str, object] = field(default_factory=dict)
    media_url: str = ""
    priority: str = ""
    received_at: datetime | None = None
    dedupe: Dedupe = Dedupe.AUTO
    actor: Any = None  # the staff user who keyed it in (phone), else None

    @property
    def body(self) -> str:
        """Subject and text together, as a case description and for the classifier."""
        subject, text = self.subject.strip(), self.text.strip()
        if subject and text and not text.lower().startswith(subject.lower()):
            return f"{subject}\n\n{text}"
        return text or subject
