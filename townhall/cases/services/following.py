"""Residents following a case: "this is my problem too", updates by e-mail once the
address is confirmed."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from townhall.cases.errors import CaseNotFound, InvalidCaseInput
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEventKind, CaseFollower, FollowRequest, FollowVia
from townhall.cases.services.chain import CaseChange, case_lock
from townhall.core import clock
from townhall.people.models import Channel, Citizen

# How many merges `case_follow` follows through before it stops at the case it reached.
_MERGE_HOPS = 10


def _closed_refuse(case: Case) -> None:
    if case.status == CaseStatus.CLOSED:
        raise InvalidCaseInput(
            _("This request is closed."),
            details={"case": [_("This request is closed: report the problem again.")]},
        )


def case_follow(
    *,
    case: Case,
    citizen: Citizen | None,
    via: str = FollowVia.ME_TOO,
    channel: str = Channel.WEB,
    now: datetime | None = None,
    voice: str = "",
) -> tuple[Case, bool]:
    """Add a follower to `case` ("this is my problem too", or updates wanted).

    A duplicate is followed through to the case it was merged into. Return the case
    followed and whether anything changed: a citizen who already follows it (or reported
    it) is not added twice, nor a second voice from the same browser session (`voice`,
    an opaque key); a citizen whose session already spoke anonymously takes that voice
    over instead of adding one. Raise InvalidCaseInput for a closed case: nothing to
    follow.
    """
    at = now or clock.now()
    with transaction.atomic():
        locked = case_lock(case.pk)
        hops = 0
        while (
            locked.status == CaseStatus.DUPLICATE and locked.merged_into_id and hops < _MERGE_HOPS
        ):
            locked, hops = case_lock(locked.merged_into_id), hops + 1
        _closed_refuse(locked)
        if citizen is not None and (
            locked.reporter_id == citizen.pk
            or CaseFollower.objects.filter(case=locked, citizen=citizen).exists()
        ):
            if voice:  # this person is counted already: their session's voice goes
                CaseFollower.objects.filter(case=locked, voice=voice, citizen=None).delete()
            return locked, False
        if voice:
            spoken = CaseFollower.objects.filter(case=locked, voice=voice).first()
            if spoken is not None:
                if citizen is None or spoken.citizen_id is not None:
                    return locked, False
                # The same session now gives a confirmed address: one voice, now reachable.
                spoken.citizen = citizen
                spoken.save(update_fields=["citizen"])
                return locked, False
        CaseFollower.objects.create(
            case=locked, citizen=citizen, via=via, voice=voice, created_at=at
        )
        CaseChange(locked, at=at, actor=None, channel=channel).append(
            CaseEventKind.FOLLOWED,
            {"via": via, "citizen_id": citizen.pk if citizen else None},
            public=via == FollowVia.ME_TOO,
        )
    return locked, True


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def follow_request_create(
    *,
    case: Case,
    email: str,
    via: str = FollowVia.SUBSCRIBED,
    language: str = "",
    voice: str = "",
    now: datetime | None = None,
) -> tuple[FollowRequest, str]:
    """Record a wish to follow `case` by e-mail until the address is confirmed; return it
    and the secret for its confirmation link (only its hash is stored). Nobody follows
    anything yet. Raise InvalidCaseInput for a closed case."""
    _closed_refuse(case)
    token = secrets.token_urlsafe(24)
    made = FollowRequest.objects.create(
        case=case,
        email=email.strip().lower(),
        via=via,
        language=language[:10],
        voice=voice,
        token_hash=_token_hash(token),
        created_at=now or clock.now(),
    )
    return made, token


def follow_request_token_renew(*, request_id: int) -> str | None:
    """Give the pending request `request_id` a new confirmation secret and return it (the
    old one stops working); None if it was confirmed or is gone. The outbox calls this as
    it sends the confirmation, so no working link is ever stored (notify.secret_links)."""
    token = secrets.token_urlsafe(24)
    renewed = FollowRequest.objects.filter(pk=request_id, confirmed_at__isnull=True).update(
        token_hash=_token_hash(token)
    )
    return token if renewed else None


def follow_requests_recent(*, email: str, hours: int = 24, now: datetime | None = None) -> int:
    """How many confirmations `email` was sent in the last `hours` (one index range)."""
    since = (now or clock.now()) - timedelta(hours=hours)
    return FollowRequest.objects.filter(email=email.strip().lower(), created_at__gte=since).count()


def follow_request_get(*, token: str, now: datetime | None = None) -> FollowRequest:
    """The pending request a confirmation link names; raise CaseNotFound if there is
    none, it was used or it is older than TOWNHALL_FOLLOW_CONFIRM_HOURS."""
    hours = settings.TOWNHALL_FOLLOW_CONFIRM_HOURS
    since = (now or clock.now()) - timedelta(hours=hours)
    found = (
        FollowRequest.objects.select_related("case")
        .filter(token_hash=_token_hash(token), confirmed_at__isnull=True, created_at__gte=since)
        .first()
    )
    if found is None:
        raise CaseNotFound(_("No such confirmation."))
    return found


def follow_request_confirm(
    *, request: FollowRequest, citizen: Citizen, now: datetime | None = None
) -> tuple[Case, bool]:
    """The address was confirmed: `citizen` (whose it is) follows the case now. The link
    works once."""
    at = now or clock.now()
    with transaction.atomic():
        used = FollowRequest.objects.filter(pk=request.pk, confirmed_at__isnull=True).update(
            confirmed_at=at
        )
        if not used:
            raise CaseNotFound(_("No such confirmation."))
        return case_follow(
            case=request.case, citizen=citizen, via=request.via, voice=request.voice, now=at
        )
