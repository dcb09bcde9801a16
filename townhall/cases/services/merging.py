"""Cases that are not one request each: merging a duplicate into the case it repeats, and
splitting off part of a case as a new one."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from townhall.cases.errors import InvalidCaseInput, InvalidMerge
from townhall.cases.lifecycle import OPEN_STATUSES, CaseStatus, transition_check
from townhall.cases.models import Case, CaseEventKind, CaseFollower, FollowVia
from townhall.cases.services.chain import Actor, CaseChange, case_lock, copy_state
from townhall.cases.services.opening import case_open
from townhall.catalog.models import ServiceType
from townhall.core import clock
from townhall.people.models import Channel


def case_merge(*, case: Case, into: Case, actor: Actor, now: datetime | None = None) -> Case:
    """Mark `case` a duplicate of `into`, recording the merge on both cases.

    Raise InvalidMerge if they are the same case or `into` is itself a duplicate;
    InvalidTransition if `case` can no longer become a duplicate.
    """
    if case.pk == into.pk:
        raise InvalidMerge(_("A case cannot be merged into itself."))
    at = now or clock.now()
    with transaction.atomic():
        # Lock in primary-key order so two opposite merges cannot deadlock.
        first, second = sorted([case.pk, into.pk])
        locked = {first: case_lock(first), second: case_lock(second)}
        duplicate = CaseChange(locked[case.pk], at=at, actor=actor, channel=Channel.STAFF)
        target = CaseChange(locked[into.pk], at=at, actor=actor, channel=Channel.STAFF)
        if target.case.status == CaseStatus.DUPLICATE:
            raise InvalidMerge(
                _("That case is itself a duplicate; merge into the case it points to.")
            )
        source = CaseStatus(duplicate.case.status)
        transition_check(source, CaseStatus.DUPLICATE)
        duplicate.set(status=CaseStatus.DUPLICATE, merged_into=target.case, resolved_at=at)
        duplicate.append(
            CaseEventKind.MERGED,
            {"from": source.value, "into": target.case.reference, "into_id": target.case.pk},
            public=True,
        )
        moved = _followers_move(duplicate.case, target.case)
        target.append(
            CaseEventKind.MERGED,
            {
                "duplicate": duplicate.case.reference,
                "duplicate_id": duplicate.case.pk,
                "followers_moved": moved,
            },
        )
    copy_state(duplicate.case, case)
    return case


def _followers_move(duplicate: Case, target: Case) -> int:
    """Whoever followed the duplicate now follows the case that carries on, and so does the
    duplicate's reporter; return how many follows moved."""
    already = CaseFollower.objects.filter(case=target, citizen__isnull=False).values("citizen_id")
    CaseFollower.objects.filter(case=duplicate, citizen_id__in=already).delete()
    moved = CaseFollower.objects.filter(case=duplicate).update(case=target)
    if duplicate.reporter_id is not None and duplicate.reporter_id != target.reporter_id:
        CaseFollower.objects.get_or_create(
            case=target, citizen_id=duplicate.reporter_id, defaults={"via": FollowVia.ME_TOO}
        )
    return moved


def case_split(
    *,
    case: Case,
    service_type: ServiceType,
    description: str,
    actor: Actor,
    answers: Mapping[str, object] | None = None,
    now: datetime | None = None,
) -> Case:
    """Open a new case for part of `case` (another service, same resident and place).

    Both cases record the split (public: the resident sees where that part went); the new
    case has its own SLA. Raise InvalidCaseInput (nothing written) if the original is
    finished or the new case's details are not valid.
    """
    if case.status not in OPEN_STATUSES:
        raise InvalidCaseInput(
            _("The case could not be split."),
            details={"service": [_("Only an open case can be split.")]},
        )
    at = now or clock.now()
    with transaction.atomic():
        new = case_open(
            service_type=service_type,
            channel=case.channel,
            description=description,
            answers=dict(answers or {}),
            lat=case.lat,
            long=case.long,
            address=case.address,
            address_id=case.address_id,
            reporter=case.reporter,
            actor=actor,
            opened_at=at,
        )
        original = CaseChange(case_lock(case.pk), at=at, actor=actor, channel=Channel.STAFF)
        original.append(
            CaseEventKind.SPLIT,
            {"to": new.reference, "to_id": new.pk, "service": service_type.code},
            public=True,
        )
        part = CaseChange(case_lock(new.pk), at=at, actor=actor, channel=Channel.STAFF)
        part.append(CaseEventKind.SPLIT, {"from": case.reference, "from_id": case.pk}, public=True)
    return new
