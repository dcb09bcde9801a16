"""Following the status of cases we forwarded to Open311 bodies: poll, read updates, apply.

`forwards_poll_due` runs every minute (`sync_tasks`). For each active Open311 body that is
not backing off, it reads the body's servicerequestupdates (when the body offers mySociety's
extension, `body_updates_pull`), then asks GET requests.json for its sent forwards not read
for `poll_seconds`, 50 ids a call. A record whose status and notes are what we applied last
time costs nothing but one UPDATE per batch (`last_synced_at`); a change goes through
`remote_status_apply` (the case lifecycle, a public update, the sync record).

What can go wrong, and what it does:

- The body is down, slow, answers 5xx, 4xx or something that is not GeoReport JSON
  (`RemoteError`): that body stops for this round and backs off (1, 2, 4 ... minutes, at
  most an hour; never sooner than its own `poll_seconds`). The first failure of an outage
  records a "will retry" sync on the forwards of the failed call; when the outage reaches
  `ALERT_AFTER` failed polls in a row, one failure sync on each of its sent forwards and an
  error in the log tell staff. The next good answer clears it. Other bodies carry on.
- A record that is malformed (no id, a status that is not text, a date that is not a
  date) is skipped and reported: on its forward if we can tell which, in the log if not.
- A forward missing from the answer is recorded once (until it comes back), not each poll.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from townhall.core import clock
from townhall.forwarding.client import Open311Client, RemoteError
from townhall.forwarding.models import (
    Body,
    BodyKind,
    Forward,
    ForwardState,
    ForwardSync,
    InboundEvent,
    SyncKind,
)
from townhall.forwarding.remote_status import STATUS_MAX, note_digest, remote_status_apply
from townhall.notify.channels.base import Transport

__all__ = [
    "ALERT_AFTER",
    "BATCH",
    "PollRound",
    "Record",
    "body_updates_pull",
    "forwards_poll",
    "forwards_poll_due",
    "record_parse",
]

log = logging.getLogger("townhall.forwarding")

BATCH = 50  # ids per GET requests.json (servers cap the URL; 50 ids stay far below 2 KB)
ALERT_AFTER = 5  # failed polls in a row before staff are told
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
UPDATES_OVERLAP = timedelta(minutes=5)  # read again: late-indexed updates; repeats are skipped
UPDATES_FIRST_MAX = timedelta(days=7)  # the first read of a body goes back at most this far
MISSING = "not in the body's answer"
MALFORMED = "the body's record is malformed"


def _client(body: Body, transport: Transport | None) -> Open311Client:
    return Open311Client(
        body.endpoint,
        api_key=body.api_key,
        jurisdiction_id=body.jurisdiction_id,
        timeout=body.timeout_seconds,
        transport=transport,
    )


@dataclass(frozen=True)
class Record:
    """One GeoReport record or update, checked: the remote id, status, note and time."""

    remote_id: str
    status: str
    note: str
    at: datetime | None
    update_id: str = ""


def _text(value: Any, *, numbers: bool = False) -> str | None:
    """A text field: a string (stripped), "" for absent/null, None if it is not text
    (with `numbers`, a whole number is taken as its digits: ids often are numbers)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if numbers and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def record_parse(raw: Mapping[str, Any], *, update: bool = False) -> Record | str:
    """A checked `Record` of a GeoReport request (or, with `update`, a servicerequestupdates
    item), or the reason it is malformed."""
    remote_id = _text(raw.get("service_request_id"), numbers=True)
    if not remote_id:
        return "no service_request_id"
    status = _text(raw.get("status"))
    if status is None or len(status) > STATUS_MAX:
        return f"request {remote_id[:40]}: the status is not a short text"
    note = _text(raw.get("description" if update else "status_notes"))
    if note is None:
        return f"request {remote_id[:40]}: the note is not text"
    when: datetime | None = None
    stamp = raw.get("updated_datetime")
    if stamp not in (None, ""):
        try:
            when = parse_datetime(stamp) if isinstance(stamp, str) else None
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            return f"request {remote_id[:40]}: updated_datetime is not a date with its zone"
    update_id = ""
    if update:
        update_id = _text(raw.get("update_id"), numbers=True) or ""
        if not update_id:
            return f"request {remote_id[:40]}: an update with no update_id"
        if when is None:
            return f"update {update_id[:40]}: no updated_datetime"
    return Record(remote_id[:200], status, note[:4000], when, update_id[:180])


def _changed(forward: Forward, record: Record) -> bool:
    return record.status != forward.remote_status or (
        bool(record.note) and note_digest(record.note) != forward.remote_note_digest
    )


# -- failures of a body -------------------------------------------------------------------


def _body_failed(
    body: Body, error: RemoteError, forwards: Sequence[Forward], now: datetime
) -> None:
    """Count a failed poll of `body`, back off, record it sparingly."""
    failures = body.sync_failures + 1
    delay = min(BACKOFF_BASE * 2 ** min(failures - 1, 10), BACKOFF_MAX)
    detail = _("the body did not answer as it should: %(error)s") % {"error": error}
    Body.objects.filter(pk=body.pk).update(
        sync_failures=failures, sync_retry_at=now + delay, sync_error=detail[:500]
    )
    body.sync_failures, body.sync_retry_at, body.sync_error = failures, now + delay, detail[:500]
    log.warning("forwarding: poll of %s failed (%d in a row): %s", body.slug, failures, error)
    if failures == 1:
        ForwardSync.objects.bulk_create(
            ForwardSync(forward=f, at=now, kind=SyncKind.RETRY, ok=False, detail=detail[:500])
            for f in forwards
        )
    if failures == ALERT_AFTER:
        log.error(
            "forwarding: %s has failed %d polls in a row; its cases are not followed: %s",
            body.slug,
            failures,
            error,
        )
        text = _("%(n)d polls in a row failed; the status is not followed: %(error)s") % {
            "n": failures,
            "error": error,
        }
        live = Forward.objects.filter(body=body, state=ForwardState.SENT).values_list(
            "pk", flat=True
        )
        ForwardSync.objects.bulk_create(
            ForwardSync(forward_id=pk, at=now, kind=SyncKind.FAILURE, ok=False, detail=text[:500])
            for pk in live.iterator()
        )


def _body_answered(body: Body) -> None:
    if body.sync_failures or body.sync_retry_at or body.sync_error:
        if body.sync_failures:
            log.info(
                "forwarding: %s answers again after %d failed polls",
                body.slug,
                body.sync_failures,
            )
        Body.objects.filter(pk=body.pk).update(sync_failures=0, sync_retry_at=None, sync_error="")
        body.sync_failures, body.sync_retry_at, body.sync_error = 0, None, ""


def _problem_once(forward: Forward, detail: str, now: datetime, elapsed_ms: int) -> bool:
    """Record `detail` on `forward` unless it is already its standing problem; True if
    recorded. The problem stands in `last_error` until a good record clears it."""
    if forward.last_error == detail[:500]:
        return False
    Forward.objects.filter(pk=forward.pk).update(last_error=detail[:500])
    forward.last_error = detail[:500]
    ForwardSync.objects.create(
        forward=forward,
        at=now,
        kind=SyncKind.POLL,
        ok=False,
        remote_status=forward.remote_status,
        detail=detail[:500],
        elapsed_ms=elapsed_ms,
    )
    return True


# -- polling ------------------------------------------------------------------------------


def _due_forwards(body: Body, now: datetime, limit: int) -> list[Forward]:
    stale = now - timedelta(seconds=body.poll_seconds)
    return list(
        Forward.objects.filter(body=body, state=ForwardState.SENT)
        .exclude(remote_id="")
        .filter(Q(last_synced_at__isnull=True) | Q(last_synced_at__lte=stale))
        .order_by(F("last_synced_at").asc(nulls_first=True), "pk")
        .only(
            "pk",
            "case_id",
            "body_id",
            "state",
            "remote_id",
            "remote_status",
            "remote_note_digest",
            "last_error",
            "last_synced_at",
        )[:limit]
    )


def _tokens_resolve(body: Body, client: Open311Client, now: datetime) -> None:
    """Ask for the ids of forwards the body answered with a token only (ten a round)."""
    stale = now - timedelta(seconds=body.poll_seconds)
    waiting = (
        Forward.objects.filter(body=body, state=ForwardState.SENT, remote_id="")
        .exclude(remote_token="")
        .filter(Q(last_synced_at__isnull=True) | Q(last_synced_at__lte=stale))
        .order_by(F("last_synced_at").asc(nulls_first=True), "pk")[:10]
    )
    for forward in waiting:
        try:
            remote_id = client.get_token(forward.remote_token)
        except RemoteError as exc:
            if exc.retryable:
                raise
            remote_id = ""
            _problem_once(forward, f"token: {exc}", now, client.last_elapsed_ms)
        Forward.objects.filter(pk=forward.pk, remote_id="").update(
            remote_id=remote_id, last_synced_at=now
        )


def _batch_apply(
    body: Body,
    forwards: Sequence[Forward],
    records: Iterable[dict[str, Any]],
    now: datetime,
    elapsed_ms: int,
) -> int:
    by_id: dict[str, Record] = {}
    for raw in records:
        parsed = record_parse(raw)
        if isinstance(parsed, str):
            raw_id = _text(raw.get("service_request_id"), numbers=True) or ""
            target = next((f for f in forwards if raw_id and f.remote_id == raw_id), None)
            if target is not None:
                _problem_once(target, f"{MALFORMED}: {parsed}", now, elapsed_ms)
            log.warning("forwarding: %s sent a malformed record: %s", body.slug, parsed)
            continue
        by_id.setdefault(parsed.remote_id, parsed)
    touched: list[int] = []
    applied = 0
    for forward in forwards:
        record = by_id.get(forward.remote_id)
        if record is None:
            if not forward.last_error.startswith(MALFORMED):
                _problem_once(forward, MISSING, now, elapsed_ms)
            touched.append(forward.pk)
            continue
        if forward.last_error:
            Forward.objects.filter(pk=forward.pk).update(last_error="")
        if not _changed(forward, record):
            touched.append(forward.pk)
            continue
        note = record.note if note_digest(record.note) != forward.remote_note_digest else ""
        try:
            remote_status_apply(
                forward,
                remote_status=record.status,
                note=note,
                at=record.at,
                kind=SyncKind.POLL,
                elapsed_ms=elapsed_ms,
            )
        except Exception:  # rolled back whole; asked again after poll_seconds
            log.exception("forwarding: applying %s's status to forward %s", body.slug, forward.pk)
            touched.append(forward.pk)
            continue
        applied += 1
    if touched:
        Forward.objects.filter(pk__in=touched).update(last_synced_at=now)
    return applied


@dataclass
class PollRound:
    """What one `forwards_poll_due` round did."""

    read: int = 0  # forwards whose status was asked for and answered
    applied: int = 0  # changes applied (polls and updates)
    failed_bodies: int = 0


def _body_poll(
    body: Body, now: datetime, limit: int, transport: Transport | None, result: PollRound
) -> None:
    client = _client(body, transport)
    forwards: list[Forward] = []
    try:
        if body.supports_updates:
            result.applied += body_updates_pull(body, now=now, client=client)
        _tokens_resolve(body, client, now)
        due = _due_forwards(body, now, limit)
        for start in range(0, len(due), BATCH):
            forwards = due[start : start + BATCH]
            records = client.get_requests([f.remote_id for f in forwards])
            if client.last_skipped:
                log.warning(
                    "forwarding: %s answered %d items that are not records",
                    body.slug,
                    client.last_skipped,
                )
            result.applied += _batch_apply(body, forwards, records, now, client.last_elapsed_ms)
            result.read += len(forwards)
    except RemoteError as exc:
        if not forwards:
            forwards = _due_forwards(body, now, BATCH)
        _body_failed(body, exc, forwards, now)
        result.failed_bodies += 1
        return
    _body_answered(body)


def forwards_poll(
    *, limit: int = 500, now: datetime | None = None, transport: Transport | None = None
) -> PollRound:
    """Read the status of up to `limit` sent forwards due a poll, body by body, and apply
    what changed; say what was done. One body failing never stops the others."""
    now = now or clock.now()
    bodies = (
        Body.objects.filter(active=True, kind=BodyKind.OPEN311)
        .exclude(endpoint="")
        .filter(Q(sync_retry_at__isnull=True) | Q(sync_retry_at__lte=now))
        .order_by("pk")
    )
    result = PollRound()
    for body in bodies:
        if result.read >= limit:
            break
        try:
            _body_poll(body, now, limit - result.read, transport, result)
        except Exception:  # one body's bug must not stop the others; logged with its trace
            log.exception("forwarding: polling %s failed", body.slug)
            result.failed_bodies += 1
    return result


def forwards_poll_due(
    *, limit: int = 500, now: datetime | None = None, transport: Transport | None = None
) -> int:
    """`forwards_poll`, returning how many forwards were read."""
    return forwards_poll(limit=limit, now=now, transport=transport).read


# -- servicerequestupdates ----------------------------------------------------------------


def _updates_start(body: Body, now: datetime) -> datetime | None:
    if body.updates_cursor is not None:
        return body.updates_cursor - UPDATES_OVERLAP
    first = (
        Forward.objects.filter(body=body, state=ForwardState.SENT)
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
    if first is None and not Forward.objects.filter(body=body, state=ForwardState.SENT).exists():
        return None
    return max(first or now, now - UPDATES_FIRST_MAX)


def body_updates_pull(
    body: Body,
    *,
    now: datetime | None = None,
    transport: Transport | None = None,
    client: Open311Client | None = None,
) -> int:
    """Read `body`'s servicerequestupdates since the newest one seen and apply each update
    once, oldest first; return how many were applied. Raise RemoteError if the body fails."""
    now = now or clock.now()
    start = _updates_start(body, now)
    if start is None:
        return 0  # nothing of ours is with the body
    client = client or _client(body, transport)
    raws = client.get_updates(start, now)
    elapsed_ms = client.last_elapsed_ms
    updates: list[Record] = []
    for raw in raws:
        parsed = record_parse(raw, update=True)
        if isinstance(parsed, str):
            log.warning("forwarding: %s sent a malformed update: %s", body.slug, parsed)
            continue
        updates.append(parsed)
    updates.sort(key=lambda u: (u.at or now, u.update_id))
    forwards = {
        f.remote_id: f
        for f in Forward.objects.filter(
            body=body, state=ForwardState.SENT, remote_id__in={u.remote_id for u in updates}
        )
    }
    keys = {u.update_id: f"update:{u.update_id}" for u in updates}
    seen = set(
        InboundEvent.objects.filter(body=body, event_id__in=keys.values()).values_list(
            "event_id", flat=True
        )
    )
    applied = 0
    newest = body.updates_cursor
    for update in updates:
        at = min(update.at or now, now)
        newest = max(newest, at) if newest is not None else at
        forward = forwards.get(update.remote_id)
        if forward is None or keys[update.update_id] in seen:
            continue
        with transaction.atomic():
            _, created = InboundEvent.objects.get_or_create(
                body=body, event_id=keys[update.update_id], defaults={"forward": forward}
            )
            if not created:
                continue
            remote_status_apply(
                forward,
                remote_status=update.status,
                note=update.note,
                at=at,
                kind=SyncKind.UPDATE,
                elapsed_ms=elapsed_ms,
            )
            Forward.objects.filter(pk=forward.pk).filter(
                Q(updates_after__isnull=True) | Q(updates_after__lt=at)
            ).update(updates_after=at)
        seen.add(keys[update.update_id])
        applied += 1
    if newest is not None and newest != body.updates_cursor:
        Body.objects.filter(pk=body.pk).update(updates_cursor=newest)
        body.updates_cursor = newest
    return applied
