"""The hash chain of each notice: every change appends an event carrying a digest of the
notice's public content (and, for a recall, the number and digest of its codes) after it.

Like a case's chain (cases/ledger.py): each event hashes its content with the hash before
it; `chain_verify` recomputes every chain and checks that each notice, as stored now, still
has the content its last event recorded, so an edit made behind the services' back (in
the database, in the admin's raw SQL) is reported by `townhall ledger verify`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Max

from townhall.cases.ledger import GENESIS_HASH, ChainBreak
from townhall.notices.codes import codes_sum
from townhall.notices.models import Notice, NoticeEvent, Recall, RecallCode

CHAIN = "notice"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="microseconds") if value else None


def notice_content(notice: Notice) -> dict[str, Any]:
    """The public content of a notice, as its digest covers it."""
    content: dict[str, Any] = {
        "kind": notice.kind,
        "status": notice.status,
        "topic": notice.topic_id,
        "title": notice.title,
        "body": notice.body,
        "advice": notice.advice,
        "title_es": notice.title_es,
        "body_es": notice.body_es,
        "advice_es": notice.advice_es,
        "starts_at": _iso(notice.starts_at),
        "ends_at": _iso(notice.ends_at),
        "area": [notice.lat, notice.long, notice.radius_m, notice.polygon],
    }
    recall = Recall.objects.filter(notice_id=notice.pk).values("product", "product_es").first()
    if recall is not None:
        content["product"] = [recall["product"], recall["product_es"]]
    return content


def content_digest(notice: Notice) -> str:
    return hashlib.sha256(_canonical(notice_content(notice)).encode()).hexdigest()


def event_hash(
    *,
    prev_hash: str,
    notice_id: int,
    seq: int,
    kind: str,
    at: datetime,
    actor_id: int | None,
    data: dict[str, Any],
) -> str:
    """Return the SHA-256 (hex) of an event's content chained to `prev_hash`."""
    body = {
        "prev": prev_hash,
        "notice": notice_id,
        "seq": seq,
        "kind": kind,
        "at": _iso(at),
        "actor": actor_id,
        "data": data,
    }
    return hashlib.sha256(_canonical(body).encode()).hexdigest()


def event_append(
    notice: Notice,
    kind: str,
    *,
    at: datetime,
    actor: AbstractBaseUser | None,
    data: dict[str, Any] | None = None,
) -> NoticeEvent:
    """Append an event recording `notice` as it is now. The caller holds the notice's row
    lock (`select_for_update`) in the open transaction."""
    last = (
        NoticeEvent.objects.filter(notice_id=notice.pk)
        .order_by("-seq")
        .values_list("seq", "hash")
        .first()
    )
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    payload = {**(data or {}), "content": content_digest(notice)}
    recall = Recall.objects.filter(notice_id=notice.pk).values("codes_count", "codes_sum").first()
    if recall is not None:
        payload["codes"] = [recall["codes_count"], recall["codes_sum"]]
    actor_id = actor.pk if actor is not None else None
    return NoticeEvent.objects.create(
        notice=notice,
        seq=seq,
        kind=kind,
        at=at,
        actor_id=actor_id,
        actor_label=actor.get_username() if actor is not None else "system",
        data=payload,
        prev_hash=prev,
        hash=event_hash(
            prev_hash=prev,
            notice_id=notice.pk,
            seq=seq,
            kind=kind,
            at=at,
            actor_id=actor_id,
            data=payload,
        ),
    )


def _links_verify() -> Iterator[tuple[int, int, str, dict[str, Any]]]:
    """Recompute every chain; yield (notice id, seq, problem or "", data) per event."""
    current, expected_prev, expected_seq = None, GENESIS_HASH, 1
    rows = NoticeEvent.objects.order_by("notice_id", "seq").values_list(
        "notice_id", "seq", "kind", "at", "actor_id", "data", "prev_hash", "hash"
    )
    for notice_id, seq, kind, at, actor_id, data, prev_hash, stored in rows.iterator(2000):
        if notice_id != current:
            current, expected_prev, expected_seq = notice_id, GENESIS_HASH, 1
        problem = ""
        if seq != expected_seq:
            problem = f"expected event #{expected_seq} here"
        elif prev_hash != expected_prev:
            problem = "prev_hash does not match the previous event"
        elif stored != event_hash(
            prev_hash=prev_hash,
            notice_id=notice_id,
            seq=seq,
            kind=kind,
            at=at,
            actor_id=actor_id,
            data=data,
        ):
            problem = "content does not match its hash"
        yield notice_id, seq, problem, data
        expected_prev, expected_seq = stored, seq + 1


def chain_verify() -> tuple[int, list[ChainBreak]]:
    """Recompute every notice's chain and compare each notice (and a recall's codes) with
    its last event; return (events checked, breaks)."""
    breaks: list[ChainBreak] = []
    last: dict[int, tuple[int, dict[str, Any]]] = {}
    counted = 0
    for notice_id, seq, problem, data in _links_verify():
        counted += 1
        if problem:
            breaks.append(ChainBreak(notice_id, seq, problem, chain=CHAIN))
        last[notice_id] = (seq, data)
    for notice in Notice.objects.order_by("pk").iterator(500):
        if notice.pk not in last:
            breaks.append(ChainBreak(notice.pk, 0, "notice has no events", chain=CHAIN))
            continue
        seq, data = last[notice.pk]
        if data.get("content") != content_digest(notice):
            breaks.append(
                ChainBreak(notice.pk, seq, "notice differs from its recorded content", chain=CHAIN)
            )
        if "codes" in data and data["codes"] != recall_codes_state(notice.pk):
            breaks.append(
                ChainBreak(notice.pk, seq, "recall codes differ from those recorded", chain=CHAIN)
            )
    return counted, breaks


def recall_codes_state(notice_id: int) -> list[Any]:
    """[count, digest] of the codes stored now for the recall of notice `notice_id`."""
    codes = RecallCode.objects.filter(recall__notice_id=notice_id).values_list("code", flat=True)
    found = list(codes.iterator(20_000))
    return [len(found), codes_sum(found)]


def chain_heads() -> list[tuple[int, int, str]]:
    """(notice id, event count, head hash) of every notice chain, by notice id."""
    heads = dict(
        NoticeEvent.objects.values("notice_id")
        .annotate(top=Max("seq"))
        .values_list("notice_id", "top")
    )
    rows = NoticeEvent.objects.filter(notice_id__in=heads).values_list("notice_id", "seq", "hash")
    return sorted((n, s, h) for n, s, h in rows if heads[n] == s)
