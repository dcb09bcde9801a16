"""A fake provider that lives outside the worker's memory, for crash tests and benchmarks.

It appends every request it receives to a file, one line each (`O_APPEND` writes of one
line are atomic), so it survives `kill -9` of the worker, and, like real providers that
honour an idempotency key, it counts a repeated key as the same message.
"""

from __future__ import annotations

import os
from pathlib import Path

from townhall.notify.channels.base import OutgoingMessage, SendResult


class FileProvider:
    """A channel adapter recording `key<TAB>to` lines in `path`."""

    def __init__(self, name: str = "sms", *, path: str) -> None:
        self.name = name
        self.path = Path(path)

    def send(self, message: OutgoingMessage) -> SendResult:
        line = f"{message.key}\t{message.to}\n".encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        return SendResult(provider_message_id=message.key, status="sent")


def file_provider_received(path: str | Path) -> list[str]:
    """Return the idempotency keys the file provider received, in order, repeats included."""
    p = Path(path)
    if not p.exists():
        return []
    return [line.split("\t", 1)[0] for line in p.read_text().splitlines() if line]
