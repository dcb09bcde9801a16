"""A status the owning body reports, applied to our case with the same lifecycle rules as a
caseworker's change (`case_transition`), and told to the resident as a public update.

Used by polling (`syncing`) and by the work-order endpoint (`inbound`). The body's
`status_map` (remote status, lower case -> our status; "" to record without changing
anything) is read over `DEFAULT_STATUS_MAP`. A status neither knows is recorded and shown
to staff, never guessed. A move the lifecycle forbids (a closed case, a status we already
have) changes nothing and is recorded; a remote note is always kept as a public update.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from townhall.cases.errors import InvalidTransition
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

# Our statuses that end the forward: the body is done with it.
FINISHING = frozenset({CaseStatus.RESOLVED, CaseStatus.REJECTED, CaseStatus.CLOSED})


def path_to(source: CaseStatus, target: CaseStatus) -> list[CaseStatus]:
    """The statuses to move through from `source` to `target` (at most two moves, through
    "in progress" when the lifecycle asks for it: a new case the body fixed); [] if none."""
    if target in TRANSITIONS[source]:
        return [target]
    via = CaseStatus.IN_PROGRESS
    if via in TRANSITIONS[source] and target in TRANSITIONS[via]:
        return [via, target]
    return []


def status_target(forward: Forward, remote_status: str) -> str | None:
    """Our status for `remote_status` at this body: a CaseStatus value, "" (record only),
    or None if neither the body's map nor the default knows it."""
    key = remote_status.strip().lower()
    mapping = {**DEFAULT_STATUS_MAP, **{k.lower(): v for k, v in forward.body.status_map.items()}}
    if key not in mapping:
        return None
    target = str(mapping[key] or "")
    return target if target in CaseStatus.values or target == "" else None


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
    and the sync record commit together or not at all.
    """
    now = at or clock.now()
    remote_status = remote_status.strip()[:60]
    with transaction.atomic():
        forward = Forward.objects.select_for_update().select_related("body").get(pk=forward.pk)
        target = status_target(forward, remote_status) if remote_status else ""
        if target is None:
            forward.remote_status = remote_status
            forward.last_synced_at = now
            forward.save(update_fields=["remote_status", "last_synced_at"])
            if note.strip():
                case_note_add(case=forward.case, text=note, actor=None, public=True, now=now)
            return forward_problem(
                forward,
                _('the body reported a status we do not know: "%(status)s"')
                % {"status": remote_status},
                remote_status=remote_status,
                elapsed_ms=elapsed_ms,
            )
        changed = remote_status != forward.remote_status
        case = Case.objects.get(pk=forward.case_id)
        detail = ""
        if changed and target and target != case.status:
            steps = path_to(CaseStatus(case.status), CaseStatus(target))
            if steps:
                before = case.status
                try:
                    for step in steps:
                        last = step == steps[-1]
                        case_transition(
                            case=case, to=step, actor=None, note=note if last else "", now=now
                        )
                    note = ""  # shown with the change
                    detail = f"{before} -> {target}"
                except InvalidTransition as exc:
                    detail = f"not applied: {exc}"[:500]
            else:
                detail = _("not applied: the case is %(status)s") % {"status": case.status}
        if note.strip():
            case_note_add(case=case, text=note, actor=None, public=True, now=now)
        forward.remote_status = remote_status or forward.remote_status
        forward.last_synced_at = now
        fields = ["remote_status", "last_synced_at"]
        if target and CaseStatus(target) in FINISHING and forward.state == ForwardState.SENT:
            forward.state = ForwardState.CLOSED
            fields.append("state")
        forward.save(update_fields=fields)
        return ForwardSync.objects.create(
            forward=forward,
            at=now,
            kind=kind,
            ok=True,
            remote_status=remote_status,
            detail=detail[:500],
            elapsed_ms=elapsed_ms,
        )
