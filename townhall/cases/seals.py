"""The daily seal of every case chain, stored and checked (database side of cases.ledger).

A seal is the RFC 6962 Merkle root over one leaf per case (sorted by case id): the case
id, the hash of its chain's head and the number of events, signed with an Ed25519 key kept
in a file outside the database. Which head each case had is kept in SealedHead (a row only
when it changed since the previous seal); nothing stored here is trusted: the leaves are
rebuilt from the events themselves and must give the signed root. So whoever rewrites a
sealed history, even recomputing every hash, or truncates a chain, is reported, unless they
also hold the signing key.

Sealing first checks the previous seal, so a history rewritten between two seals is never
laundered into the next one.
"""

from __future__ import annotations

import bisect
import logging
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from townhall.cases.ledger import (
    CHUNK,
    ChainBreak,
    SealKeyMissing,
    SealStatement,
    audit_path,
    key_id_of,
    leaf_bytes,
    leaf_hash,
    merkle_root,
    public_key_raw,
    signature_verify,
    signing_key_load,
)
from townhall.cases.ledger_extensions import ledger_extensions
from townhall.cases.models import CaseEvent, LedgerSeal, SealedHead
from townhall.core import clock

logger = logging.getLogger(__name__)

GENESIS_SEAL = "0" * 64
_CHUNK_ROW = struct.Struct(">Q32s")


class SealRefused(Exception):
    """The seal was not made: no key, or the history no longer matches the previous seal
    (rewritten, or shorter than sealed)."""

    def __init__(self, message: str, breaks: list[ChainBreak] | None = None) -> None:
        super().__init__(message)
        self.breaks = breaks or []


# --- reading sealed heads -----------------------------------------------------------------


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _state_sql(upto: int, *, lo: int | None = None, hi: int | None = None) -> tuple[str, list[Any]]:
    """SQL for each case's sealed head at seal `upto` (case_id, seq), case ids in [lo, hi)."""
    where, params = ["seal_id <= %s"], [upto]
    if lo is not None:
        where.append("case_id >= %s")
        params.append(lo)
    if hi is not None:
        where.append("case_id < %s")
        params.append(hi)
    heads = _table(SealedHead)
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT DISTINCT ON (case_id) case_id, seq FROM {heads} "  # noqa: S608 - our table name
            f"WHERE {' AND '.join(where)} ORDER BY case_id, seal_id DESC"
        )
    else:  # SQLite: the bare column comes from the row holding MAX(seal_id)
        sql = (
            f"SELECT case_id, seq FROM (SELECT case_id, seq, MAX(seal_id) FROM {heads} "  # noqa: S608
            f"WHERE {' AND '.join(where)} GROUP BY case_id)"
        )
    return sql, params


def sealed_leaves(
    upto: int, *, lo: int | None = None, hi: int | None = None
) -> Iterator[tuple[int, int, str | None, bytes | None]]:
    """Yield (case id, sealed count, hash of that event now or None if it is gone, leaf
    hash or None if there is no valid head), ordered by case id, streamed (a server-side
    cursor on PostgreSQL: a million rows never sit in memory at once).

    The leaf hashes are computed here, not in SQL: PostgreSQL's sha256() with the hex
    decoding measured several times slower than hashlib over the fetched rows."""
    state, params = _state_sql(upto, lo=lo, hi=hi)
    sql = (
        f"SELECT s.case_id, s.seq, e.hash FROM ({state}) s "  # noqa: S608 - built above
        f"LEFT JOIN {_table(CaseEvent)} e ON e.case_id = s.case_id AND e.seq = s.seq "
        "ORDER BY s.case_id"
    )
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(20_000):
            for case_id, seq, head in rows:
                try:
                    digest = leaf_hash(case_id, head, seq) if head is not None else None
                except (ValueError, struct.error):
                    digest = None
                yield case_id, seq, head, digest


@dataclass
class Tree:
    """The leaves of one seal as they are now, folded into the roots of their 1,024-leaf
    runs as they stream in (the leaves themselves are not kept)."""

    firsts: list[int] = field(default_factory=list)
    lasts: list[int] = field(default_factory=list)
    roots: list[bytes] = field(default_factory=list)
    size: int = 0
    missing: list[ChainBreak] = field(default_factory=list)
    _run: list[bytes] = field(default_factory=list)

    def add(self, case_id: int, digest: bytes) -> None:
        if not self._run:
            self.firsts.append(case_id)
        self._run.append(digest)
        self.size += 1
        if len(self._run) == CHUNK:
            self._close(case_id)

    def _close(self, last: int) -> None:
        self.roots.append(merkle_root(self._run))
        self.lasts.append(last)
        self._run = []

    def finish(self, last: int | None) -> Tree:
        if self._run and last is not None:
            self._close(last)
        return self

    def root(self) -> bytes:
        return merkle_root(self.roots)

    def chunks_packed(self) -> bytes:
        return b"".join(_CHUNK_ROW.pack(c, r) for c, r in zip(self.firsts, self.roots, strict=True))


def _tree(upto: int) -> Tree:
    tree = Tree()
    last = None
    for case_id, seq, head, digest in sealed_leaves(upto):
        if head is None:
            tree.missing.append(
                ChainBreak(case_id, seq, f"truncated: sealed event #{seq} is missing")
            )
            continue
        if digest is None:
            tree.missing.append(ChainBreak(case_id, seq, "head hash is not a SHA-256"))
            continue
        tree.add(case_id, digest)
        last = case_id
    return tree.finish(last)


def chunks_unpack(blob: bytes | memoryview) -> list[tuple[int, bytes]]:
    data = bytes(blob)
    return [_CHUNK_ROW.unpack_from(data, i) for i in range(0, len(data), _CHUNK_ROW.size)]


# --- sealing --------------------------------------------------------------------------------


def key_path() -> Path | None:
    configured = settings.TOWNHALL_LEDGER_KEY_FILE
    return Path(configured) if configured else None


def statement_of(seal: LedgerSeal) -> SealStatement:
    return SealStatement(
        date=seal.date.isoformat(),
        sealed_at=seal.sealed_at.astimezone(UTC).isoformat(timespec="microseconds"),
        root=seal.root,
        tree_size=seal.tree_size,
        prev=seal.prev_hash,
        key_id=seal.key_id,
    )


def ledger_seal(*, now: datetime | None = None) -> LedgerSeal:
    """Seal the heads of every case chain now; return the new seal.

    Raise SealRefused if no signing key is configured (production), or if the history no
    longer matches the previous seal (it is reported, never sealed over).
    """
    path = key_path()
    if path is None:
        raise SealRefused("No TOWNHALL_LEDGER_KEY_FILE is configured: refusing to seal.")
    try:
        key = signing_key_load(path, create=not settings.PRODUCTION)
    except SealKeyMissing as exc:
        raise SealRefused(str(exc)) from exc
    public = public_key_raw(key.public_key())
    at = now or clock.now()
    with transaction.atomic():
        # One sealer at a time: the previous seal is locked while the next is made.
        previous = LedgerSeal.objects.select_for_update().order_by("-id").first()
        if previous is not None:
            # After a key rotation the previous seal is checked with the key it names (its
            # root is what matters here); `ledger verify --public-key` checks old seals.
            rotated = previous.key_id != key_id_of(public)
            breaks = seal_check(previous, bytes.fromhex(previous.public_key) if rotated else public)
            if breaks:
                raise SealRefused(
                    f"The history no longer matches seal {previous.pk}: not sealing over it.",
                    breaks,
                )
        seal = LedgerSeal.objects.create(
            date=timezone.localdate(at),
            sealed_at=at,
            root="",
            tree_size=0,
            signature="",
            key_id=key_id_of(public),
            public_key=public.hex(),
            prev_hash=previous.hash if previous is not None else GENESIS_SEAL,
            hash=f"pending-{at.timestamp()}",
        )
        _heads_record(seal.pk, previous.pk if previous is not None else None)
        tree = _tree(seal.pk)
        if tree.missing:  # a head recorded a moment ago cannot be missing, but be sure
            raise SealRefused("Sealed events vanished while sealing.", tree.missing)
        seal.root = tree.root().hex()
        seal.tree_size = tree.size
        seal.chunks = tree.chunks_packed()
        statement = statement_of(seal)
        seal.signature = key.sign(statement.message()).hex()
        seal.hash = statement.digest()
        seal.save(update_fields=["root", "tree_size", "chunks", "signature", "hash"])
        for extension in ledger_extensions():  # other apps' chains, sealed with this seal
            extension.seal(seal, key)
    logger.info("ledger sealed: seal %s, %s cases, root %s", seal.pk, seal.tree_size, seal.root)
    return seal


def _heads_record(seal_id: int, previous_id: int | None) -> None:
    """Write a SealedHead for every case whose head moved since the previous seal (one
    INSERT … SELECT, in the database)."""
    events, heads = _table(CaseEvent), _table(SealedHead)
    current = f"SELECT case_id, MAX(seq) AS seq FROM {events} GROUP BY case_id"  # noqa: S608
    with connection.cursor() as cursor:
        if previous_id is None:
            cursor.execute(
                f"INSERT INTO {heads} (seal_id, case_id, seq) "  # noqa: S608
                f"SELECT %s, h.case_id, h.seq FROM ({current}) h",
                [seal_id],
            )
            _analyze(heads)
            return
        # Heads only move forward: the previous seal was checked just before, so a history
        # shorter than sealed has already been refused.
        state, params = _state_sql(previous_id)
        cursor.execute(
            f"INSERT INTO {heads} (seal_id, case_id, seq) "  # noqa: S608
            f"SELECT %s, h.case_id, h.seq FROM ({current}) h "
            f"LEFT JOIN ({state}) p ON p.case_id = h.case_id "
            "WHERE p.case_id IS NULL OR h.seq > p.seq",
            [seal_id, *params],
        )
    _analyze(heads)


def _analyze(table: str) -> None:
    """Keep the planner's row counts of the heads table current (it grows by a seal's worth
    at once, faster than autovacuum notices), so reading a seal back plans a merge join."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")


# --- checking -------------------------------------------------------------------------------


def seal_check(seal: LedgerSeal, trusted_key: bytes) -> list[ChainBreak]:
    """Check one seal: its signature under `trusted_key`, its link to the seal before, and
    that the case histories still give its root. Return what is wrong (case 0: the seal)."""
    problems: list[ChainBreak] = []
    statement = statement_of(seal)
    if seal.key_id != key_id_of(trusted_key):
        problems.append(ChainBreak(0, seal.pk, "seal signed by an unknown key"))
    elif not signature_verify(trusted_key, seal.signature, statement.message()):
        problems.append(ChainBreak(0, seal.pk, "seal signature does not verify"))
    if statement.digest() != seal.hash:
        problems.append(ChainBreak(0, seal.pk, "seal hash does not match its content"))
    before = LedgerSeal.objects.filter(pk__lt=seal.pk).order_by("-pk").values("hash").first()
    if seal.prev_hash != (before["hash"] if before else GENESIS_SEAL):
        problems.append(ChainBreak(0, seal.pk, "seal does not follow the seal before it"))
    tree = _tree(seal.pk)
    problems += tree.missing
    if tree.size != seal.tree_size or tree.root().hex() != seal.root:
        problems += _locate(seal, tree)
    for extension in ledger_extensions():
        problems += extension.seal_check(seal, trusted_key)
    return problems


def _locate(seal: LedgerSeal, tree: Tree) -> list[ChainBreak]:
    """Say which cases no longer match a seal's root, as closely as the stored runs allow."""
    found: list[ChainBreak] = []
    stored = chunks_unpack(seal.chunks)
    if len(stored) == len(tree.roots):
        for (first, root), now, last in zip(stored, tree.roots, tree.lasts, strict=True):
            if root != now:
                found.append(
                    ChainBreak(
                        first,
                        0,
                        f"history rewritten since seal {seal.pk} ({seal.date}): "
                        f"a case between {first} and {last} no longer matches the sealed root",
                    )
                )
    if not found:
        found.append(
            ChainBreak(
                0,
                seal.pk,
                f"history rewritten since seal {seal.pk} ({seal.date}): "
                f"{tree.size} cases give another root than the {seal.tree_size} sealed",
            )
        )
    return found


def trusted_public_keys(given: list[str] | None = None) -> tuple[list[bytes], str]:
    """The public keys seals are checked with: those given (hex), and the signing key
    file's. Return (keys, where they came from); no keys if neither."""
    keys = [bytes.fromhex(k) for k in given or []]
    sources = ["given"] if keys else []
    path = key_path()
    if path is not None and path.exists():
        keys.append(public_key_raw(signing_key_load(path, create=False).public_key()))
        sources.append(str(path))
    return keys, " and ".join(sources)


def seals_check(trusted_keys: list[bytes], *, every: bool = False) -> tuple[int, list[ChainBreak]]:
    """Check the latest seal (or `every` seal), each with the trusted key of the id it
    names (keys rotate); return (seals checked, problems)."""
    by_id = {key_id_of(key): key for key in trusted_keys}
    seals = list(LedgerSeal.objects.order_by("pk").defer("chunks"))
    if not every:
        seals = seals[-1:]
    problems: list[ChainBreak] = []
    for seal in seals:
        problems += seal_check(seal, by_id.get(seal.key_id, trusted_keys[0]))
    return len(seals), problems


def seals_compare(kept: list[dict[str, Any]]) -> list[ChainBreak]:
    """Compare a copy of the published seals (someone kept /ledger/seals.json) with ours:
    every kept seal must still be here, unchanged."""
    ours = dict(LedgerSeal.objects.values_list("pk", "hash"))
    problems = []
    for item in kept:
        if ours.get(int(item["id"])) != item["hash"]:
            problems.append(
                ChainBreak(0, int(item["id"]), "a published seal is missing or changed")
            )
    return problems


# --- inclusion proofs -----------------------------------------------------------------------


@dataclass(frozen=True)
class InclusionProof:
    seal: LedgerSeal
    case_id: int
    head: str
    count: int
    index: int
    path: list[bytes]

    def as_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "head": self.head,
            "count": self.count,
            "leaf": leaf_bytes(self.case_id, self.head, self.count).hex(),
            "leaf_index": self.index,
            "tree_size": self.seal.tree_size,
            "audit_path": [p.hex() for p in self.path],
            "seal": seal_json(self.seal),
        }


def inclusion_proof(case_id: int, seal: LedgerSeal | None = None) -> InclusionProof | None:
    """The audit path of `case_id`'s leaf in `seal` (default: the latest seal);
    None if it is not sealed yet or its sealed head is gone."""
    if seal is None:
        seal = LedgerSeal.objects.order_by("-pk").first()
        if seal is None:
            return None
    chunks = chunks_unpack(seal.chunks)
    firsts = [c for c, _ in chunks]
    at = bisect.bisect_right(firsts, case_id) - 1
    if at < 0:
        return None
    hi = firsts[at + 1] if at + 1 < len(firsts) else None
    leaves = list(sealed_leaves(seal.pk, lo=firsts[at], hi=hi))
    ids = [row[0] for row in leaves]
    if case_id not in ids or any(digest is None for *_, digest in leaves):
        return None
    hashes = [digest for *_, digest in leaves if digest is not None]
    inner = ids.index(case_id)
    _, seq, head, _ = leaves[inner]
    path = audit_path(hashes, inner) + audit_path([r for _, r in chunks], at)
    return InclusionProof(
        seal=seal,
        case_id=case_id,
        head=head or "",
        count=seq,
        index=at * CHUNK + inner,
        path=path,
    )


def seal_json(seal: LedgerSeal) -> dict[str, Any]:
    """A seal as published: everything needed to check its signature and chain."""
    statement = statement_of(seal)
    return {
        "id": seal.pk,
        "version": "townhall-ledger-seal/1",
        "date": statement.date,
        "sealed_at": statement.sealed_at,
        "root": seal.root,
        "tree_size": seal.tree_size,
        "prev": seal.prev_hash,
        "key_id": seal.key_id,
        "public_key": seal.public_key,
        "signature": seal.signature,
        "hash": seal.hash,
        "signed_message": statement.message().decode(),
    }
