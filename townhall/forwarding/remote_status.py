"""A status the owning body reports, applied to our case with the same lifecycle rules as a
caseworker's change (`case_transition`), and told to the resident as a public update.

Used by polling (`syncing`) and by the work-order endpoint (`inbound`). The body's
`status_map` (remote status, lower case -> our status; "" to record without changing
anything) is read over `DEFAULT_STATUS_MAP`. A status neither knows is recorded and shown
to staff once (not again while the body keeps reporting it), never guessed. A move the
lifecycle forbids (a closed case, a status we already have) changes nothing and is
recorded; a remote note is kept as a public update, except the very note applied last
time read again with no change of status (a poll reads the same `status_notes` each time).

Times: the case's events take the body's time when it gives one, kept between the case's
last change and now (a case's history never runs backwards, nothing happens in the
future); the forward's `last_synced_at` and the sync record take the time we read it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from townhall.cases.errors import CaseError
from townhall.cases.lifecycle import TRANSITIONS, CaseStatus
from townhall.cases.models import Case
from townhall.cases.services import case_note_add, case_transition
from townhall.core import clock
from townhall.forwarding.alerts import forward_problem
from townhall.forwarding.models import Forward, ForwardState, ForwardSync, SyncKind

# GeoReport v2's own two, and the ones mySociety's FixMyStreet and Open311 servers send.
DEFAULT_STATUS_MAP: dict[str, str] = {
    "open": CaseStatus.IN_PROGRESS,
    "in_progress": CaseStatus.IN_PROGRESS,
    "investigating": CaseStatus.IN_PROGRESS,
    "action_scheduled": CaseStatus.IN_PROGRESS,
    "acknowledged": CaseStatus.IN_PROGRESS,
    "fixed": CaseStatus.RESOLVED,
    "closed": CaseStatus.RESOLVED,
    "resolved": CaseStatus.RESOLVED,
    "duplicate": CaseStatus.RESOLVED,
    "no_further_action": CaseStatus.REJECTED,
    "unable_to_fix": CaseStatus.REJECTED,
    "not_councils_responsibility": CaseStatus.REJECTED,
    "rejected": CaseStatus.REJECTED,
}

# Our statuses a body may move a case to. NEW is where cases start, and DUPLICATE needs
# the case it repeats (a merge): a body's map naming them is a mistake, reported as unknown.
TARGETS = frozenset(CaseStatus) - {CaseStatus.NEW, CaseStatus.DUPLICATE}

# Our statuses that end the forward: the body is done with it.
FINISHING = frozenset({CaseStatus.RESOLVED, CaseStatus.REJECTED, CaseStatus.CLOSED})

STATUS_MAX = 60  # ForwardSync.remote_status / Forward.remote_status


def path_to(source: CaseStatus, target: CaseStatus) -> list[CaseStatus]:
    """The statuses to move through from `source` to `target` (at most two moves, through
    "in progress" when the lifecycle asks for it: a new case the body fixed); [] if none."""
    if target in TRANSITIONS[source]:
        return [target]
    via = CaseStatus.IN_PROGRESS
    if via in TRANSITIONS[source] and target in TRANSITIONS[via]:
        return [via, target]
    return []


def status_map_of(forward: Forward) -> dict[str, str]:
    """The default map with the body's own entries over it (keys lower case)."""
    mapping = dict(DEFAULT_STATUS_MAP)
    own = forward.body.status_map
    if isinstance(own, dict):
        for key, value in own.items():
            mapping[str(key).strip().lower()] = "" if value is None else str(value)
    return mapping


def status_target(forward: Forward, remote_status: str) -> str | None:
    """Our status for `remote_status` at this body: a CaseStatus value, "" (record only),
    or None if neither the body's map nor the default knows it (or it maps to a status a
    body may not set)."""
    key = remote_status.strip().lower()
    mapping = status_map_of(forward)
    if key not in mapping:
        return None
    target = mapping[key].strip()
    if target == "":
        return ""
    return target if target in TARGETS else None


def note_digest(note: str) -> str:
    """What `Forward.remote_note_digest` keeps of a note ("" for no note)."""
    text = note.strip()
    return hashlib.sha256(text.encode()).hexdigest() if text else ""


def remote_status_apply(
    forward: Forward,
    *,
    remote_status: str,
    note: str = "",
    at: datetime | None = None,
    kind: SyncKind = SyncKind.POLL,
    elapsed_ms: int | None = None,
) -> ForwardSync:
    """Apply what the body says of `forward`'s case; return the sync record.

    One transaction: the case's change, its public update, the forward's new remote status
    and the sync record commit together or not at all. `at` is the body's time of the
    change, if it gave one.
    """
    read_at = clock.now()
    remote_status = remote_status.strip()[:STATUS_MAX]
    note = note.strip()
    with transaction.atomic():
        forward = (
            Forward.objects.select_for_update(of=("self",))
            .select_related("body")
            .get(pk=forward.pk)
        )
        case = Case.objects.get(pk=forward.case_id)
        when = min(max(at, case.updated_at), read_at) if at is not None else read_at
        target = status_target(forward, remote_status) if remote_status else ""
        changed = remote_status != forward.remote_status
        digest = note_digest(note)
        if note and digest == forward.remote_note_digest and not changed:
            note = ""  # the note applied last time, read again: not news
        forward.last_synced_at = read_at
        fields = ["remote_status", "last_synced_at"]
        if digest and note:
            forward.remote_note_digest = digest
            fields.append("remote_note_digest")
        if target is None:
            forward.remote_status = remote_status
            forward.save(update_fields=fields)
            if note:
                case_note_add(case=case, text=note, actor=None, public=True, now=when)
            if not changed:  # told staff when it first came; record, do not alert again
                return ForwardSync.objects.create(
                    forward=forward,
                    at=read_at,
                    kind=kind,
                    ok=False,
                    remote_status=remote_status,
                    detail=_("still a status we do not know"),
                    elapsed_ms=elapsed_ms,
                )
            return forward_problem(
                forward,
                _('the body reported a status we do not know: "%(status)s"')
                % {"status": remote_status},
                remote_status=remote_status,
                elapsed_ms=elapsed_ms,
            )
        detail = ""
        if changed and target and target != case.status:
            steps = path_to(CaseStatus(case.status), CaseStatus(target))
            if steps:
                before = case.status
                try:
                    with transaction.atomic():  # both steps or neither
                        for step in steps:
                            last = step == steps[-1]
                            case_transition(
                                case=case,
                                to=step,
                                actor=None,
                                note=note if last else "",
                                now=when,
                            )
                    note = ""  # shown with the change
                    detail = f"{before} -> {target}"
                except CaseError as exc:
                    case = Case.objects.get(pk=case.pk)
                    detail = _("not applied: %(error)s") % {"error": exc}
            else:
                detail = _("not applied: the case is %(status)s") % {"status": case.status}
        if note:
            case_note_add(case=case, text=note, actor=None, public=True, now=when)
        forward.remote_status = remote_status or forward.remote_status
        if target and CaseStatus(target) in FINISHING and forward.state == ForwardState.SENT:
            forward.state = ForwardState.CLOSED
            fields.append("state")
        forward.save(update_fields=fields)
        return ForwardSync.objects.create(
            forward=forward,
            at=read_at,
            kind=kind,
            ok=True,
            remote_status=remote_status,
            detail=detail[:500],
            elapsed_ms=elapsed_ms,
        )
