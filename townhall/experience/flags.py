"""Supervisor flags: raised by a low survey score or a high frustration index.

At most one open flag per case and kind (a partial unique constraint), so raising twice
returns the open one. The frustration owner extends this (supervisor notification, handling).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from townhall.cases.models import Case
from townhall.experience.models import SupervisorFlag, Survey


def flag_raise(
    *, case: Case, kind: str, score: float, reason: str = "", survey: Survey | None = None
) -> tuple[SupervisorFlag, bool]:
    """Open a flag of `kind` on `case` unless one is open; return (flag, created)."""
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
    return flag, True
