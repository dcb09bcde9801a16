"""The notices' part of the daily ledger seal, and of `townhall ledger verify`.

Registered with cases.ledger_extensions from NoticesConfig.ready(). With each case seal a
NoticeSeal is made in the same transaction: the RFC 6962 Merkle root over one leaf per
notice chain (notice id, head hash, event count; the case ledger's leaf format), signed
with the ledger key, carrying the case seal's hash and the previous notices seal's hash.
Checking rebuilds the leaves from the events as they are now: a sealed history rewritten,
even with every hash recomputed, gives another root.
"""

from __future__ import annotations

import hashlib
import json
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from townhall.cases.ledger import (
    ChainBreak,
    key_id_of,
    leaf_hash,
    merkle_root,
    public_key_raw,
    signature_verify,
)
from townhall.cases.models import LedgerSeal
from townhall.notices.chain import CHAIN, chain_heads, chain_verify
from townhall.notices.models import NoticeEvent, NoticeSeal

VERSION = "townhall-notices-seal/1"
GENESIS = "0" * 64


def _message(seal: NoticeSeal) -> bytes:
    body = {
        "version": VERSION,
        "case_seal": seal.case_seal_hash,
        "root": seal.root,
        "tree_size": seal.tree_size,
        "prev": seal.prev_hash,
        "key_id": seal.key_id,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _root(heads: list[tuple[int, int, str]]) -> str:
    return merkle_root([leaf_hash(n, h, c) for n, c, h in heads]).hex()


def _break(seq: int, reason: str) -> ChainBreak:
    return ChainBreak(0, seq, f"notices: {reason}", chain=CHAIN)


class NoticesLedger:
    """The notices' chains as a ledger extension (cases.ledger_extensions)."""

    name = "notices"

    def verify(self) -> tuple[int, list[ChainBreak]]:
        return chain_verify()

    def seal(self, seal: LedgerSeal, key: Ed25519PrivateKey) -> None:
        heads = chain_heads()
        previous = NoticeSeal.objects.order_by("-case_seal_id").values("hash").first()
        made = NoticeSeal(
            case_seal_id=seal.pk,
            case_seal_hash=seal.hash,
            root=_root(heads),
            tree_size=len(heads),
            heads=[list(h) for h in heads],
            prev_hash=previous["hash"] if previous else GENESIS,
            key_id=key_id_of(public_key_raw(key.public_key())),
        )
        message = _message(made)
        made.signature = key.sign(message).hex()
        made.hash = hashlib.sha256(message).hexdigest()
        made.save(force_insert=True)

    def seal_check(self, seal: LedgerSeal, trusted_key: bytes) -> list[ChainBreak]:
        made = NoticeSeal.objects.filter(case_seal_id=seal.pk).first()
        if made is None:
            # Seals made before notices existed have none; a later one must.
            if NoticeSeal.objects.filter(case_seal_id__lt=seal.pk).exists():
                return [_break(seal.pk, "the notices seal of this seal is missing")]
            return []
        problems = []
        message = _message(made)
        if made.case_seal_hash != seal.hash:
            problems.append(_break(seal.pk, "sealed with another case seal"))
        if made.key_id != key_id_of(trusted_key) or not signature_verify(
            trusted_key, made.signature, message
        ):
            problems.append(_break(seal.pk, "signature does not verify"))
        if hashlib.sha256(message).hexdigest() != made.hash:
            problems.append(_break(seal.pk, "seal hash does not match its content"))
        before = (
            NoticeSeal.objects.filter(case_seal_id__lt=seal.pk)
            .order_by("-case_seal_id")
            .values("hash")
            .first()
        )
        if made.prev_hash != (before["hash"] if before else GENESIS):
            problems.append(_break(seal.pk, "does not follow the notices seal before it"))
        problems += _heads_check(made)
        return problems


def _heads_check(made: NoticeSeal) -> list[ChainBreak]:
    problems = []
    try:
        sealed = [(int(n), int(c), str(h)) for n, c, h in made.heads]
        now = {
            (n, s): h
            for n, s, h in NoticeEvent.objects.filter(
                notice_id__in=[n for n, _c, _h in sealed]
            ).values_list("notice_id", "seq", "hash")
        }
        current = []
        for notice_id, count, head in sealed:
            found = now.get((notice_id, count))
            if found is None:
                problems.append(
                    ChainBreak(notice_id, count, "truncated: sealed event is missing", chain=CHAIN)
                )
            elif found != head:
                problems.append(
                    ChainBreak(notice_id, count, "history rewritten since the seal", chain=CHAIN)
                )
            current.append((notice_id, count, found or head))
        if len(sealed) != made.tree_size or _root(current) != made.root:
            problems.append(_break(made.case_seal_id, "sealed heads no longer give the root"))
    except (TypeError, ValueError, struct.error):
        problems.append(_break(made.case_seal_id, "sealed heads are malformed"))
    return problems


def register() -> None:
    from townhall.cases.ledger_extensions import ledger_extension_register

    ledger_extension_register(NoticesLedger())


__all__ = ["NoticesLedger", "register"]
