"""Erasing personal data from cases (privacy requests and retention), keeping the cases
for statistics and every chain verifiable."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction

from townhall.cases.errors import CaseNotFound
from townhall.cases.models import (
    CaseEventKind,
    CaseEventPersonal,
    CaseFollower,
    CasePhoto,
    FollowRequest,
)
from townhall.cases.services.chain import Actor, CaseChange, case_lock
from townhall.core import clock
from townhall.core.files import stored_files_delete_on_commit
from townhall.people.models import Channel

logger = logging.getLogger(__name__)

# Stored in the ledger (hashed): never translated.
ERASURE_NOTE = "Personal data erased"


def _coarse(value: float | None, decimals: int) -> float | None:
    return None if value is None else round(value, decimals)


def case_personal_data_clear(
    *,
    case_ids: Sequence[int],
    actor: Actor,
    reason: str,
    coord_decimals: int,
    now: datetime | None = None,
) -> dict[str, int]:
    """Remove the personal data of the cases `case_ids`; keep them for statistics.

    Cleared: the description, answers, address and its gazetteer id, the media link, the
    reporter, the followers' identities (their "me too" stays as an anonymous count) and
    the photos (rows now, files after commit). The service, department, dates, status,
    priority and the location rounded to `coord_decimals` stay. Each case gets one
    internal NOTE event through the normal append path, saying only that its personal
    data was erased and why (`reason` is a fixed word such as "request" or "retention",
    never personal data). Events themselves are never changed. Return counts per kind.
    """
    at = now or clock.now()
    counts = {"cases": 0, "photos": 0, "followers": 0}
    files: list[str] = []
    with transaction.atomic():
        for case_id in sorted(set(case_ids)):
            try:
                change = CaseChange(case_lock(case_id), at=at, actor=actor, channel=Channel.STAFF)
            except CaseNotFound:
                continue
            photos = list(CasePhoto.objects.filter(case_id=case_id).values_list("pk", "file"))
            files.extend(name for _pk, name in photos if name)
            CasePhoto.objects.filter(pk__in=[pk for pk, _name in photos]).delete()
            counts["photos"] += len(photos)
            counts["followers"] += CaseFollower.objects.filter(
                case_id=case_id, citizen__isnull=False
            ).update(citizen=None)
            change.set(
                description="",
                public_description="",
                public_summary="",
                answers={},
                address="",
                address_id="",
                media_url="",
                reporter=None,
                lat=_coarse(change.case.lat, coord_decimals),
                long=_coarse(change.case.long, coord_decimals),
            )
            change.append(
                CaseEventKind.NOTE,
                {"text": f"{ERASURE_NOTE} ({reason}).", "erased": reason},
            )
            counts["cases"] += 1

        stored_files_delete_on_commit(files, what="an erased photo file")
    return counts


def follow_requests_forget(*, emails: Sequence[str]) -> int:
    """Delete the pending and used follow confirmations of these addresses; return how many."""
    wanted = [e.strip().lower() for e in emails if e.strip()]
    if not wanted:
        return 0
    deleted, _ = FollowRequest.objects.filter(email__in=wanted).delete()
    return deleted


def case_follows_anonymise(*, citizen_id: int) -> int:
    """Keep a resident's "me too" and follows as anonymous counts; return how many."""
    return CaseFollower.objects.filter(citizen_id=citizen_id).update(citizen=None)


def personal_data_erase(case_ids: Sequence[int]) -> int:
    """Delete the personal values (and their salts) of every event of these cases; return
    how many values went. The chains still verify: they hold only commitments. Readers
    show "(removed)" in their place. (The case row's own description and address are the
    caller's to redact: they are not part of any chain.)"""
    if not case_ids:
        return 0
    deleted, _ = CaseEventPersonal.objects.filter(case_id__in=list(case_ids)).delete()
    return deleted
