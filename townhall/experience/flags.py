"""Supervisor flags: raised by a low survey score or a high frustration index.

At most one open flag per case and kind (a partial unique constraint), so raising twice
returns the open one. A new flag is e-mailed to the supervisors of the case's department
(notify.updates.supervisor_flag_tell, through the outbox); a supervisor handles it with an
outcome (what was done), which closes it: the next scan may raise a new one if the case
is still going badly.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction

from townhall.cases.models import Case
from townhall.core import clock
from townhall.core.errors import ValidationFailed
from townhall.experience.models import FlagKind, SupervisorFlag, Survey
from townhall.notify.updates import supervisor_flag_tell

log = logging.getLogger(__name__)

OUTCOME_MAX = 500


def flag_raise(
    *, case: Case, kind: str, score: float, reason: str = "", survey: Survey | None = None
) -> tuple[SupervisorFlag, bool]:
    """Open a flag of `kind` on `case` unless one is open; return (flag, created).

    A new flag is e-mailed to the department's supervisors (a failure to queue the mail
    is logged and never undoes the flag)."""
    open_flag = SupervisorFlag.objects.filter(case=case, kind=kind, handled_at__isnull=True)
    found = open_flag.first()
    if found is not None:
        return found, False
    try:
        with transaction.atomic():
            flag = SupervisorFlag.objects.create(
                case=case, kind=kind, score=score, reason=reason[:300], survey=survey
            )
    except IntegrityError:  # raised at the same moment by another process
        return open_flag.get(), False
    try:
        with transaction.atomic():
            supervisor_flag_tell(
                flag_id=flag.pk, case=case, kind_label=str(FlagKind(kind).label), score=score
            )
    except Exception:
        log.exception("experience: supervisors were not told of flag %s", flag.pk)
    return flag, True


def flag_handle(*, flag: SupervisorFlag, user: Any, outcome: str) -> SupervisorFlag:
    """Close an open flag with what was done. ValidationFailed for an empty or too long
    outcome, or a flag someone already handled (the queue may be stale in two tabs)."""
    text = " ".join((outcome or "").split())
    if not text:
        raise ValidationFailed("Say what was done.", details={"outcome": ["Say what was done."]})
    if len(text) > OUTCOME_MAX:
        message = f"At most {OUTCOME_MAX} characters."
        raise ValidationFailed(message, details={"outcome": [message]})
    with transaction.atomic():
        updated = SupervisorFlag.objects.filter(pk=flag.pk, handled_at__isnull=True).update(
            handled_at=clock.now(), handled_by=user, outcome=text
        )
    if not updated:
        raise ValidationFailed(
            "Someone has already handled this flag.",
            details={"outcome": ["Someone has already handled this flag."]},
        )
    flag.refresh_from_db()
    return flag
