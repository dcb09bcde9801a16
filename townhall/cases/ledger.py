"""The tamper-evident history of cases: hash chains, personal-data commitments, daily seals.

Pure functions (no database): the services and selectors store and read, this module hashes.
See docs/security/ledger.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

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
    """Where and why a case's chain fails to verify (`chain` names another app's chain,
    registered through cases.ledger_extensions; `case_id` is then that chain's id)."""

    case_id: int
    seq: int
    reason: str
    chain: str = "case"


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


# --- personal data: commitments in the chain, values in an erasable table ------------------

# Free-text fields of event payloads that may hold what a resident wrote or said about
# themselves (a reply, a "not fixed" reason, a note quoting them, a reason naming them).
# Their values never enter the hashed payload: it holds a salted commitment instead, under
# COMMITMENTS_KEY, and the value and salt live in CaseEventPersonal, which erasure deletes.
PERSONAL_FIELDS = frozenset({"text", "note", "reason"})
COMMITMENTS_KEY = "commit"
REMOVED = "(removed)"


def personal_commitment(salt: str, value: str) -> str:
    """Return H(salt || value) in hex: `salt` is hex (16 random bytes), `value` UTF-8 text."""
    return hashlib.sha256(bytes.fromhex(salt) + value.encode()).hexdigest()


def personal_split(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """Split an event payload into what is hashed and the personal values kept apart.

    Non-empty personal fields leave the payload; the payload gets their commitments under
    COMMITMENTS_KEY. Return (hashed payload, {field: (value, salt)}).
    """
    personal: dict[str, tuple[str, str]] = {}
    hashed: dict[str, Any] = {}
    for key, value in data.items():
        if key in PERSONAL_FIELDS and isinstance(value, str) and value:
            personal[key] = (value, secrets.token_hex(16))
        else:
            hashed[key] = value
    if personal:
        hashed[COMMITMENTS_KEY] = {
            field: personal_commitment(salt, value) for field, (value, salt) in personal.items()
        }
    return hashed, personal


def personal_join(data: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """Return the payload as readers see it: committed fields filled in from `values`, or
    REMOVED where the value was erased."""
    commitments = data.get(COMMITMENTS_KEY)
    if not isinstance(commitments, dict):
        return data
    shown = {k: v for k, v in data.items() if k != COMMITMENTS_KEY}
    for field in commitments:
        shown[field] = values.get(field, REMOVED)
    return shown


# --- the daily seal: a Merkle tree of case heads (RFC 6962 hashing) --------------------------

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
# Leaves are grouped in aligned runs of CHUNK (a power of two); each run is a subtree of
# the RFC 6962 tree, so a seal keeps the runs' roots and a proof needs only one run's leaves.
CHUNK = 1024
SEAL_VERSION = "townhall-ledger-seal/1"


def leaf_bytes(case_id: int, head_hash: str, count: int) -> bytes:
    """The sealed leaf of one case: its id (8 bytes), head hash (32 bytes), event count (4
    bytes), big-endian. Its Merkle leaf hash is SHA-256(0x00 || these 44 bytes)."""
    return struct.pack(">Q32sI", case_id, bytes.fromhex(head_hash), count)


def leaf_hash(case_id: int, head_hash: str, count: int) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + leaf_bytes(case_id, head_hash, count)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def merkle_root(hashes: list[bytes]) -> bytes:
    """The RFC 6962 Merkle tree hash over already-hashed leaves (or subtree roots of equal,
    power-of-two size, last one possibly smaller). The empty tree hashes to SHA-256("")."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    level = hashes
    sha = hashlib.sha256
    while len(level) > 1:
        # Pair neighbours; an odd last node moves up unchanged: RFC 6962's left-balanced tree.
        nxt = [
            sha(NODE_PREFIX + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def audit_path(hashes: list[bytes], index: int) -> list[bytes]:
    """RFC 6962 audit path (section 2.1.1) of leaf `index` in the tree over `hashes`."""
    path: list[bytes] = []
    level = hashes
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level, index = nxt, index // 2
    return path


def audit_path_verify(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    """Check an RFC 6962 audit path (RFC 9162 section 2.1.3.2)."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


@dataclass(frozen=True)
class SealStatement:
    """What a seal's signature covers; its canonical JSON is the signed message."""

    date: str
    sealed_at: str
    root: str
    tree_size: int
    prev: str
    key_id: str

    def message(self) -> bytes:
        body = {
            "version": SEAL_VERSION,
            "date": self.date,
            "sealed_at": self.sealed_at,
            "root": self.root,
            "tree_size": self.tree_size,
            "prev": self.prev,
            "key_id": self.key_id,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def digest(self) -> str:
        """The seal's own hash, which the next seal carries as `prev`."""
        return hashlib.sha256(self.message()).hexdigest()


# --- the signing key, kept outside the database ------------------------------------------------


class SealKeyMissing(Exception):
    """No signing key is configured where one is required."""


def public_key_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id_of(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def signing_key_load(path: Path, *, create: bool) -> Ed25519PrivateKey:
    """Read the Ed25519 private key (PKCS#8 PEM) at `path`; with `create`, write a new one
    there first (mode 0600) if there is none. Raise SealKeyMissing otherwise."""
    if not path.exists():
        if not create:
            raise SealKeyMissing(f"No ledger signing key at {path}.")
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        return key
    loaded = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise SealKeyMissing(f"{path} holds no Ed25519 private key.")
    return loaded


def signature_verify(public_raw: bytes, signature_hex: str, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True
