"""The tamper-evident chain of case events: hashing and verification."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


def event_hash(
    *,
    prev_hash: str,
    case_id: int,
    seq: int,
    kind: str,
    at: datetime,
    actor_id: int | None,
    channel: str,
    public: bool,
    data: dict[str, Any],
) -> str:
    """Return the SHA-256 (hex) of an event's content chained to `prev_hash`."""
    body = json.dumps(
        {
            "prev": prev_hash,
            "case": case_id,
            "seq": seq,
            "kind": kind,
            # Microsecond UTC ISO text: the same instant hashes the same on every database.
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": actor_id,
            "channel": channel,
            "public": public,
            "data": data,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class ChainLink:
    """The stored fields of one event, as the verifier reads them."""

    case_id: int
    seq: int
    kind: str
    at: datetime
    actor_id: int | None
    channel: str
    public: bool
    data: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainBreak:
    """Where and why a case's chain fails to verify."""

    case_id: int
    seq: int
    reason: str


def chain_verify(links: Iterable[ChainLink]) -> Iterator[ChainBreak]:
    """Yield every break in `links`, which must be ordered by case then seq."""
    current_case: int | None = None
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for link in links:
        if link.case_id != current_case:
            current_case, expected_prev, expected_seq = link.case_id, GENESIS_HASH, 1
        if link.seq != expected_seq:
            yield ChainBreak(link.case_id, link.seq, f"expected event #{expected_seq} here")
        if link.prev_hash != expected_prev:
            yield ChainBreak(link.case_id, link.seq, "prev_hash does not match the previous event")
        recomputed = event_hash(
            prev_hash=link.prev_hash,
            case_id=link.case_id,
            seq=link.seq,
            kind=link.kind,
            at=link.at,
            actor_id=link.actor_id,
            channel=link.channel,
            public=link.public,
            data=link.data,
        )
        if recomputed != link.hash:
            yield ChainBreak(link.case_id, link.seq, "content does not match its hash")
        expected_prev, expected_seq = link.hash, link.seq + 1
