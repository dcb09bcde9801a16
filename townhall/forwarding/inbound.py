"""What a work-order system tells us about a case we forwarded to it: a status, a note for
the resident, a note for staff (docs/forwarding-inbound.md).

The system signs each event as Townhall signs its own case events (notify/channels/webhook.py,
docs/webhooks.md): `X-Townhall-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." +
body)>` with an `X-Townhall-Timestamp` within five minutes, the secret being the body's
`inbound_secret`. So a work-order system implements one scheme, both ways.

Only an active work-order body with a secret is heard, and only about a case forwarded to
it (a `Forward` of that case and body, not withdrawn): another body's case and a case we
kept answer the same 404 as a reference that does not exist. An unknown body and a bad
signature get the same 401, so the slugs stay private. Each event id is applied once per
body (`InboundEvent`); a repeat answers 200 as the first time did, marked `"repeat": true`,
and changes nothing. The status goes through `remote_status_apply` (the lifecycle rules
staff follow); a move the lifecycle forbids is refused with 409 and recorded as a failed
sync, a status we do not know is recorded, told to staff and answered 200 with
`"outcome": "status_unknown"`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_datetime

from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case
from townhall.cases.selectors import reference_matches, reference_parse
from townhall.cases.services import case_note_add
from townhall.core import clock
from townhall.forwarding.models import (
    Body,
    BodyKind,
    Forward,
    ForwardState,
    ForwardSync,
    InboundEvent,
    SyncKind,
)
from townhall.forwarding.remote_status import path_to, remote_status_apply, status_target
from townhall.notify.channels.webhook import DEFAULT_TOLERANCE_SECONDS, webhook_verify

BODY_MAX = 64 * 1024  # an event is a few hundred bytes; notes are capped below
NOTE_MAX = 4000
EVENT_ID_MAX = 200
CASE_MAX = 200
STATUS_MAX = 60
# A body's own time may run a little ahead of ours; further ahead is a mistake.
FUTURE_SKEW = timedelta(minutes=5)

BAD_SIGNATURE = (
    "Unknown endpoint, or a bad or missing X-Townhall-Signature, "
    "or an X-Townhall-Timestamp more than five minutes off."
)
UNKNOWN_CASE = "No case of that reference was forwarded to you."
FIELDS = ("event_id", "case", "status", "note", "internal_note", "at")


@dataclass(frozen=True)
class InboundAnswer:
    """The HTTP status and JSON body to answer the work-order system with."""

    status: int
    body: dict[str, Any]


def _error(status: int, message: str, field: str | None = None) -> InboundAnswer:
    return InboundAnswer(status, {"errors": [{"field": field, "message": message}]})


def _errors(errors: dict[str, str]) -> InboundAnswer:
    return InboundAnswer(
        400, {"errors": [{"field": field, "message": msg} for field, msg in errors.items()]}
    )


@dataclass(frozen=True)
class _Event:
    event_id: str
    case: str
    status: str
    note: str
    internal_note: str
    at: datetime | None


def _text(payload: dict[str, Any], name: str, limit: int, errors: dict[str, str]) -> str:
    value = payload.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name] = "Give a string."
        return ""
    if len(value) > limit:
        errors[name] = f"At most {limit} characters."
        return ""
    if "\x00" in value:
        errors[name] = "No NUL characters."
        return ""
    return value.strip()


def inbound_event_parse(raw: bytes) -> _Event | InboundAnswer:
    """The event in `raw`, or the 400 answer saying what is wrong with it."""
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _error(400, "The body is not JSON.", "body")
    if not isinstance(payload, dict):
        return _error(400, "The body must be a JSON object.", "body")
    errors: dict[str, str] = {}
    unknown = sorted(str(k) for k in payload if k not in FIELDS)
    if unknown:
        errors[unknown[0]] = "Unknown field; the fields are: " + ", ".join(FIELDS) + "."
    event_id = _text(payload, "event_id", EVENT_ID_MAX, errors)
    case = _text(payload, "case", CASE_MAX, errors)
    status = _text(payload, "status", STATUS_MAX, errors)
    note = _text(payload, "note", NOTE_MAX, errors)
    internal_note = _text(payload, "internal_note", NOTE_MAX, errors)
    at_text = _text(payload, "at", 40, errors)
    if not event_id and "event_id" not in errors:
        errors["event_id"] = "Required: your unique id for this event."
    if not case and "case" not in errors:
        errors["case"] = "Required: our reference or your work-order id."
    if not (status or note or internal_note) and not errors:
        errors["status"] = "Send a status, a note or an internal_note."
    at: datetime | None = None
    if at_text:
        try:
            at = parse_datetime(at_text)
        except ValueError:
            at = None
        if at is None or at.tzinfo is None:
            errors["at"] = "Give an ISO 8601 time with its offset, e.g. 2026-12-03T14:05:00Z."
        elif at > clock.now() + FUTURE_SKEW:
            errors["at"] = "This time is in the future."
    if errors:
        return _errors(errors)
    return _Event(event_id, case, status, note, internal_note, at)


def _body_for(slug: str) -> Body | None:
    return (
        Body.objects.filter(slug=slug, kind=BodyKind.WORK_ORDER, active=True)
        .exclude(inbound_secret="")
        .first()
    )


def inbound_signature_ok(
    body: Body | None, raw: bytes, *, signature: str, timestamp: str, now: int | None = None
) -> bool:
    """Whether `raw` is signed with `body`'s secret at a timestamp within five minutes.
    With no body, a signature is still computed (over a throwaway key), so an unknown
    slug takes as long to refuse as a bad signature."""
    secret = body.inbound_secret if body is not None else "no-such-body"
    ok = webhook_verify(
        secret=secret,
        signature_header=signature,
        timestamp_header=timestamp,
        body=raw,
        now=int(time.time()) if now is None else now,
        tolerance=DEFAULT_TOLERANCE_SECONDS,
    )
    return ok and body is not None


def _forward_for(body: Body, reference: str) -> Forward | None:
    """The forward of the case `reference` names (our reference or the body's own id)
    that this body holds, newest first; withdrawn forwards are no longer the body's."""
    mine = (
        Forward.objects.filter(body=body)
        .exclude(state=ForwardState.WITHDRAWN)
        .select_related("case", "body")
        .order_by("-created_at", "-pk")
    )
    parsed = reference_parse(reference)
    if parsed is not None:
        year, case_id = parsed
        found = mine.filter(case_id=case_id).first()
        if found is not None and reference_matches(found.case, year):
            return found
    return mine.filter(remote_id=reference).first()


def _answer(event: _Event, forward: Forward | None, *, outcome: str, repeat: bool) -> InboundAnswer:
    reference = forward.case.reference if forward is not None else event.case
    return InboundAnswer(
        200,
        {"event_id": event.event_id, "case": reference, "outcome": outcome, "repeat": repeat},
    )


def _outcome(forward: Forward, event: _Event) -> str:
    if event.status and status_target(forward, event.status) is None:
        return "status_unknown"
    return "accepted"


def _refusal(forward: Forward, case: Case, event: _Event) -> str:
    """Why the lifecycle refuses the event's status ("" if it does not): the same table
    a caseworker's change goes through."""
    if not event.status or event.status.lower() == forward.remote_status.lower():
        return ""
    target = status_target(forward, event.status)
    if not target or target == case.status:
        return ""
    if path_to(CaseStatus(case.status), CaseStatus(target)):
        return ""
    return (
        f"A case that is {CaseStatus(case.status).label} cannot become "
        f"{CaseStatus(target).label} (your status {event.status!r})."
    )


def _apply(body: Body, forward: Forward, case: Case, event: _Event) -> None:
    if event.internal_note:
        case_note_add(
            case=case, text=f"{body.name}: {event.internal_note}", actor=None, public=False
        )
    sync = remote_status_apply(
        forward, remote_status=event.status, note=event.note, kind=SyncKind.INBOUND
    )
    if event.at is not None:
        when = event.at.isoformat()
        sync.detail = (f"{sync.detail} (at the body: {when})" if sync.detail else when)[:500]
        sync.save(update_fields=["detail"])


def inbound_receive(
    *, slug: str, raw: bytes, signature: str, timestamp: str, now: int | None = None
) -> InboundAnswer:
    """Check, then apply once, one signed event a work-order system sent about a case.

    Never raises for anything the caller sent: every refusal is an `InboundAnswer`.
    """
    if len(raw) > BODY_MAX:
        return _error(413, f"The event is larger than the {BODY_MAX:,} bytes accepted.", "body")
    body = _body_for(slug)
    signed = inbound_signature_ok(body, raw, signature=signature, timestamp=timestamp, now=now)
    if body is None or not signed:
        return _error(401, BAD_SIGNATURE)
    parsed = inbound_event_parse(raw)
    if isinstance(parsed, InboundAnswer):
        return parsed
    event = parsed
    seen = (
        InboundEvent.objects.filter(body=body, event_id=event.event_id)
        .select_related("forward__case", "forward__body")
        .first()
    )
    if seen is not None:
        return _repeat(event, seen)
    forward = _forward_for(body, event.case)
    if forward is None:
        return _error(404, UNKNOWN_CASE, "case")
    with transaction.atomic():
        forward = (
            Forward.objects.select_for_update().select_related("case", "body").get(pk=forward.pk)
        )
        try:
            with transaction.atomic():
                InboundEvent.objects.create(body=body, event_id=event.event_id, forward=forward)
        except IntegrityError:
            seen = InboundEvent.objects.select_related("forward__case", "forward__body").get(
                body=body, event_id=event.event_id
            )
            return _repeat(event, seen)
        case = Case.objects.get(pk=forward.case_id)
        refusal = _refusal(forward, case, event)
        if refusal:
            transaction.set_rollback(True)  # the event id is not kept: it may come again
        else:
            _apply(body, forward, case, event)
    if refusal:
        # Recorded after the rollback, so staff see what the body tried and why not.
        ForwardSync.objects.create(
            forward=forward,
            kind=SyncKind.INBOUND,
            ok=False,
            remote_status=event.status[:60],
            detail=f"refused: {refusal}"[:500],
        )
        return _error(409, refusal, "status")
    return _answer(event, forward, outcome=_outcome(forward, event), repeat=False)


def _repeat(event: _Event, seen: InboundEvent) -> InboundAnswer:
    forward = seen.forward
    outcome = _outcome(forward, event) if forward is not None else "accepted"
    return _answer(event, forward, outcome=outcome, repeat=True)
