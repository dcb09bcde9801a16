"""Sending cases to the body that owns them, and what a failure means (docs/forwarding.md).

- `forward_on_case_opened`: a case-event subscriber ("opened"): a case a routing rule gives
  to a body gets a PENDING forward in the case's own transaction, sent after the commit.
- `forward_to`, `forward_resend`, `forward_withdraw`: staff forward by hand, send a failed
  forward again, take a case back.
- `forward_send`: one POST to the body's GeoReport v2 server (work-order bodies need none:
  they hear our signed case events). Success stores the remote id (or token) and tells the
  resident; a failure that may pass is retried with exponential backoff and jitter; one
  that will not, or too many attempts, marks the forward FAILED, notes it on the case and
  e-mails staff. The case itself is never touched by a failure but for that note.
- `forwards_send_due`: the periodic sweep: every due forward, and tokens not yet an id.

A forward is sent under a row lock taken with SKIP LOCKED, held until the answer is
recorded, so two workers never POST the same forward.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from townhall.cases.dispatch import wants
from townhall.cases.models import Case, CaseEvent
from townhall.cases.services import Actor, case_note_add
from townhall.core import clock
from townhall.core.errors import ValidationFailed
from townhall.core.tasks import enqueue_with_transaction
from townhall.forwarding.alerts import forward_failed_tell, forward_problem
from townhall.forwarding.client import Open311Client, RemoteError
from townhall.forwarding.models import (
    Body,
    BodyKind,
    Forward,
    ForwardState,
    ForwardSync,
    SyncKind,
)
from townhall.forwarding.payload import request_fields
from townhall.forwarding.routing import route_body_id
from townhall.notify.channels.base import Transport

log = logging.getLogger("townhall.forwarding")

__all__ = [
    "ForwardingRefused",
    "backoff_seconds",
    "client_for",
    "forward_on_case_opened",
    "forward_resend",
    "forward_send",
    "forward_to",
    "forward_withdraw",
    "forwarding_setting",
    "forwards_send_due",
    "request_fields",
]

DEFAULTS: dict[str, float] = {
    "MAX_ATTEMPTS": 8,  # then FAILED and staff alerted
    "BACKOFF_BASE_SECONDS": 60,  # 1 min, 2, 4, 8 ...
    "BACKOFF_MAX_SECONDS": 6 * 3600,  # ... never more than 6 hours apart
    "TOKEN_CHECK_SECONDS": 300,  # how often a token is asked for its id
}
LIVE_STATES = (ForwardState.PENDING, ForwardState.SENT, ForwardState.FAILED)


class ForwardingRefused(ValidationFailed):
    code = "forwarding.refused"


def forwarding_setting(name: str) -> float:
    """`settings.TOWNHALL_FORWARDING[name]`, else its default."""
    configured = getattr(settings, "TOWNHALL_FORWARDING", None) or {}
    return float(configured.get(name, DEFAULTS[name]))


def backoff_seconds(attempts: int, *, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait after the `attempts`-th failed try: base · 2^(attempts-1), capped,
    then up to 25 % more at random (so forwards that failed together do not retry together)."""
    base = forwarding_setting("BACKOFF_BASE_SECONDS")
    cap = forwarding_setting("BACKOFF_MAX_SECONDS")
    delay: float = min(base * 2.0 ** max(attempts - 1, 0), cap)
    return float(min(delay * (1 + 0.25 * rand()), cap))


def client_for(body: Body, transport: Transport | None = None) -> Open311Client:
    """The GeoReport client of `body`'s server, with its key, jurisdiction and timeout."""
    return Open311Client(
        body.endpoint,
        api_key=body.api_key,
        jurisdiction_id=body.jurisdiction_id,
        timeout=body.timeout_seconds,
        transport=transport,
    )


def _scrub(text: str, body: Body) -> str:
    """`text` without the body's key (a remote may echo it back in its error)."""
    if body.api_key and len(body.api_key) >= 4:
        text = text.replace(body.api_key, "***")
    return text[:500]


def _public_name(body: Body) -> str:
    return body.public_name or body.name


# -- opening ---------------------------------------------------------------------------------


def _enqueue_send(forward_id: int) -> None:
    from townhall.forwarding.tasks import forward_send_task  # tasks import this module

    enqueue_with_transaction(forward_send_task, forward_id)


def _owned_elsewhere(case: Case) -> bool:
    return (
        route_body_id(service_type_id=case.service_type_id, lat=case.lat, long=case.long)
        is not None
    )


@wants(_owned_elsewhere)
def forward_on_case_opened(event: CaseEvent) -> None:
    """Subscriber for "opened": forward the new case if a routing rule gives it to a body.

    With no rules (the routing cache warm) this costs no query: the case is the one the
    event was built with. Imported cases (handled elsewhere already) are never forwarded.
    """
    if (event.data or {}).get("imported"):
        return
    if CaseEvent.case.is_cached(event):
        case: Case = event.case
        service_type_id, lat, long = case.service_type_id, case.lat, case.long
    else:
        row = Case.objects.filter(pk=event.case_id).values_list("service_type_id", "lat", "long")
        service_type_id, lat, long = row.get()
    body_id = route_body_id(service_type_id=service_type_id, lat=lat, long=long)
    if body_id is None:
        return
    forward = Forward.objects.create(
        case_id=event.case_id,
        body_id=body_id,
        state=ForwardState.PENDING,
        next_attempt_at=event.at,
    )
    _enqueue_send(forward.pk)


def forward_to(*, case: Case, body: Body, actor: Actor) -> Forward:
    """Forward `case` to `body` by hand (sent after the commit); an internal note says who.

    Raise ForwardingRefused if the body is inactive, not set up to receive, or the case is
    already with a body (withdraw that first).
    """
    if not body.active:
        raise ForwardingRefused(
            _("This body is not active."), details={"body": [_("Choose an active body.")]}
        )
    if body.kind == BodyKind.OPEN311 and not body.endpoint:
        raise ForwardingRefused(
            _("This body has no endpoint."), details={"body": [_("Set its endpoint first.")]}
        )
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).exists()
        if Forward.objects.filter(case=case, state__in=LIVE_STATES).exists():
            raise ForwardingRefused(
                _("This case is already forwarded."),
                details={"case": [_("Withdraw the current forward first.")]},
            )
        forward = Forward.objects.create(
            case=case, body=body, state=ForwardState.PENDING, next_attempt_at=clock.now()
        )
        case_note_add(
            case=case,
            text=_("Forwarded to %(body)s by hand.") % {"body": body.name},
            actor=actor,
        )
        _enqueue_send(forward.pk)
    return forward


def forward_resend(*, forward: Forward, actor: Actor) -> Forward:
    """Send a FAILED forward again now, from a fresh count of attempts.

    Raise ForwardingRefused for a forward in any other state.
    """
    with transaction.atomic():
        locked = Forward.objects.select_for_update().select_related("body").get(pk=forward.pk)
        if locked.state != ForwardState.FAILED:
            raise ForwardingRefused(
                _("Only a failed forward can be sent again."),
                details={"state": [locked.get_state_display()]},
            )
        locked.state = ForwardState.PENDING
        locked.attempts = 0
        locked.next_attempt_at = clock.now()
        locked.last_error = ""
        locked.save(update_fields=["state", "attempts", "next_attempt_at", "last_error"])
        case_note_add(
            case=locked.case,
            text=_("Sending to %(body)s again.") % {"body": locked.body.name},
            actor=actor,
        )
        _enqueue_send(locked.pk)
    return locked


def forward_withdraw(*, forward: Forward, actor: Actor, reason: str) -> Forward:
    """Take the case back from its body: the forward is WITHDRAWN (waiting for a send in
    flight to finish), the case stays with us, an internal note says why.

    The remote is not told (GeoReport v2 has no way to): say so to the body if it was sent.
    Raise ForwardingRefused without a reason or for a forward no longer live.
    """
    reason = reason.strip()
    if not reason:
        raise ForwardingRefused(
            _("Say why the case is taken back."), details={"reason": [_("Write a reason.")]}
        )
    with transaction.atomic():
        locked = Forward.objects.select_for_update().select_related("body").get(pk=forward.pk)
        if locked.state not in LIVE_STATES:
            raise ForwardingRefused(
                _("This forward is already over."),
                details={"state": [locked.get_state_display()]},
            )
        was_sent = locked.state == ForwardState.SENT
        locked.state = ForwardState.WITHDRAWN
        locked.next_attempt_at = None
        locked.save(update_fields=["state", "next_attempt_at"])
        text = _("Taken back from %(body)s: %(reason)s") % {
            "body": locked.body.name,
            "reason": reason[:400],
        }
        if was_sent:
            text += " " + _("(They already have it as %(ref)s: tell them.)") % {
                "ref": locked.remote_id or locked.remote_token or "?"
            }
        case_note_add(case=locked.case, text=text, actor=actor)
    return locked


# -- what is sent ----------------------------------------------------------------------------


def _sent_tell(forward: Forward) -> None:
    """The resident's public update: where the case went and the body's reference."""
    body = forward.body
    if forward.remote_id:
        text = _("Sent to %(body)s, who will deal with it and reply; their reference is %(ref)s.")
    else:
        text = _("Sent to %(body)s, who will deal with it and reply.")
    text %= {"body": _public_name(body), "ref": forward.remote_id}
    if body.public_note:
        text += " " + body.public_note
    case_note_add(case=forward.case, text=text, actor=None, public=True)


def _locked_due(forward_id: int, now: datetime) -> Forward | None:
    """The forward, locked, if it is PENDING and due; None if another worker holds it."""
    return (
        Forward.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("body", "case", "case__service_type", "case__reporter")
        .filter(pk=forward_id, state=ForwardState.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .first()
    )


def forward_send(forward_id: int, *, client: Open311Client | None = None) -> Forward:
    """Send one PENDING, due forward (see the module's docstring); return it as it stands.

    A forward that is not pending, not due yet, or being sent by another worker is
    returned unchanged. `client` (one per body, reused by the sweep) must be `body`'s.
    """
    return _send(forward_id, client=client, now=clock.now())


def _send(forward_id: int, *, client: Open311Client | None, now: datetime) -> Forward:
    with transaction.atomic():
        forward = _locked_due(forward_id, now)
        if forward is None:
            return Forward.objects.get(pk=forward_id)
        body = forward.body
        if body.kind == BodyKind.WORK_ORDER:
            forward.state = ForwardState.SENT
            forward.sent_at = now
            forward.attempts += 1
            forward.next_attempt_at = None
            forward.save(update_fields=["state", "sent_at", "attempts", "next_attempt_at"])
            ForwardSync.objects.create(
                forward=forward,
                kind=SyncKind.SEND,
                detail="work-order system: it hears the case's signed events",
                elapsed_ms=0,
            )
            _sent_tell(forward)
            return forward
        client = client or client_for(body)
        forward.attempts += 1
        try:
            if not body.active:
                raise RemoteError("the body is no longer active", retryable=False)
            answer = client.post_request(request_fields(forward))
        except RemoteError as exc:
            _send_failed(forward, exc, elapsed_ms=client.last_elapsed_ms, now=now)
            return forward
        forward.remote_id = answer.remote_id
        forward.remote_token = answer.token
        forward.state = ForwardState.SENT
        forward.sent_at = now
        forward.last_synced_at = now
        forward.next_attempt_at = None
        forward.last_error = ""
        try:
            with transaction.atomic():
                forward.save()
        except IntegrityError:
            # The body gave an id another forward of ours already holds: keep the token
            # path's way out (no id), and tell staff, rather than lose the answer.
            duplicate = forward.remote_id
            forward.remote_id = ""
            forward.save()
            forward_problem(forward, f"the body answered with an id already used: {duplicate}")
        ForwardSync.objects.create(
            forward=forward,
            kind=SyncKind.SEND,
            detail=_scrub(
                f"id {answer.remote_id}" if answer.remote_id else f"token {answer.token}", body
            ),
            elapsed_ms=client.last_elapsed_ms,
        )
        _sent_tell(forward)
    return forward


def _send_failed(forward: Forward, exc: RemoteError, *, elapsed_ms: int, now: datetime) -> None:
    body = forward.body
    detail = _scrub(str(exc), body)
    forward.last_error = detail
    limit = int(forwarding_setting("MAX_ATTEMPTS"))
    if exc.retryable and forward.attempts < limit:
        forward.next_attempt_at = now + timedelta(seconds=backoff_seconds(forward.attempts))
        forward.save(update_fields=["attempts", "next_attempt_at", "last_error"])
        ForwardSync.objects.create(
            forward=forward, kind=SyncKind.RETRY, ok=False, detail=detail, elapsed_ms=elapsed_ms
        )
        log.info("forward %s: attempt %s failed, retrying", forward.pk, forward.attempts)
        return
    forward.state = ForwardState.FAILED
    forward.next_attempt_at = None
    forward.save(update_fields=["state", "attempts", "next_attempt_at", "last_error"])
    if exc.retryable:
        detail = _("gave up after %(n)s attempts: %(error)s") % {
            "n": forward.attempts,
            "error": detail,
        }
    forward_problem(forward, detail, elapsed_ms=elapsed_ms)
    forward_failed_tell(forward, detail)
    log.warning("forward %s to body %s failed", forward.pk, body.pk)


def _tokens_check(
    now: datetime, limit: int, clients: dict[int, Open311Client], transport: Transport | None
) -> int:
    """Ask for the id of forwards sent with a token only; return how many got one."""
    since = now - timedelta(seconds=forwarding_setting("TOKEN_CHECK_SECONDS"))
    waiting = list(
        Forward.objects.filter(state=ForwardState.SENT, remote_id="", body__kind=BodyKind.OPEN311)
        .exclude(remote_token="")
        .filter(Q(last_synced_at__isnull=True) | Q(last_synced_at__lte=since))
        .select_related("body")
        .order_by("last_synced_at", "pk")[:limit]
    )
    found = 0
    for forward in waiting:
        client = clients.get(forward.body_id)
        if client is None:
            client = clients[forward.body_id] = client_for(forward.body, transport)
        try:
            remote_id = client.get_token(forward.remote_token)
        except RemoteError as exc:
            remote_id = ""
            ForwardSync.objects.create(
                forward=forward,
                kind=SyncKind.RETRY,
                ok=False,
                detail=_scrub(f"token: {exc}", forward.body),
                elapsed_ms=client.last_elapsed_ms,
            )
        changed = Forward.objects.filter(pk=forward.pk, state=ForwardState.SENT, remote_id="")
        if remote_id:
            try:
                with transaction.atomic():
                    changed.update(remote_id=remote_id, last_synced_at=now)
                    ForwardSync.objects.create(
                        forward=forward,
                        kind=SyncKind.SEND,
                        detail=_scrub(
                            f"token {forward.remote_token} is id {remote_id}", forward.body
                        ),
                        elapsed_ms=client.last_elapsed_ms,
                    )
                found += 1
            except IntegrityError:
                forward_problem(forward, f"the token became an id already used: {remote_id}")
        else:
            changed.update(last_synced_at=now)
    return found


def forwards_send_due(
    *,
    limit: int = 500,
    now: datetime | None = None,
    transport: Transport | None = None,
) -> int:
    """Send every PENDING forward now due (oldest first, at most `limit`), with one client
    per body; then ask tokens for their ids. Return how many were sent."""
    now = now or clock.now()
    due = list(
        Forward.objects.filter(state=ForwardState.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", "body_id")[:limit]
    )
    clients: dict[int, Open311Client] = {}
    if due:
        bodies = Body.objects.in_bulk({body_id for _, body_id in due})
        clients = {pk: client_for(b, transport) for pk, b in bodies.items()}
    sent = 0
    for forward_id, body_id in due:
        try:
            forward = _send(forward_id, client=clients[body_id], now=now)
        except Exception:  # one bad forward must not stop the sweep; it stays PENDING
            log.exception("forward %s: sending raised", forward_id)
            continue
        sent += forward.state == ForwardState.SENT
    _tokens_check(now, limit, clients, transport)
    return sent
