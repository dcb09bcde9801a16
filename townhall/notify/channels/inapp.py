"""In-app notices: the outbox row is itself what the resident's "my requests" page shows."""

from __future__ import annotations

from townhall.notify.channels.base import OutgoingMessage, SendResult

__all__ = ["InAppChannel"]


class InAppChannel:
    """Nothing to hand over: the message is delivered once it is in the outbox."""

    def __init__(self, name: str = "inapp") -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"InAppChannel(name={self.name!r})"

    def send(self, message: OutgoingMessage) -> SendResult:
        return SendResult(provider_message_id=message.key, status="delivered")
