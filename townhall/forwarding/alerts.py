"""Telling staff that a forward needs them: a failed send, an unknown remote status.

Every problem is recorded as a failed `ForwardSync` (the case page lists it) and as an
internal note on the case, so the caseworker sees it in the case's history and the console.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from townhall.cases.services import case_note_add
from townhall.forwarding.models import Forward, ForwardSync, SyncKind


def forward_problem(
    forward: Forward, detail: str, *, remote_status: str = "", elapsed_ms: int | None = None
) -> ForwardSync:
    """Record that `forward` needs staff: a failed sync and an internal note on the case."""
    sync = ForwardSync.objects.create(
        forward=forward,
        kind=SyncKind.FAILURE,
        ok=False,
        remote_status=remote_status[:60],
        detail=detail[:500],
        elapsed_ms=elapsed_ms,
    )
    case_note_add(
        case=forward.case,
        text=_("Forwarding to %(body)s needs attention: %(detail)s")
        % {"body": forward.body.name, "detail": detail[:400]},
        actor=None,
    )
    return sync
