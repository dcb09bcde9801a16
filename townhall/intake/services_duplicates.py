"""Intake: the same problem reported again: a resident's repeat, nearby open cases, staff
suggestions and their decisions, and following a case as "me too"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from rapidfuzz import fuzz

from townhall.cases.lifecycle import OPEN_STATUSES
from townhall.cases.models import Case, FollowVia
from townhall.cases.photos import CleanPhoto
from townhall.cases.selectors import case_nearby_open
from townhall.cases.services import (
    Actor,
    case_follow,
    case_merge,
    case_note_add,
    case_photos_add,
)
from townhall.catalog.models import ServiceType
from townhall.core import clock
from townhall.core.tasks import enqueue_once_on_commit
from townhall.intake.messages import Message, Place
from townhall.intake.models import (
    DuplicateSuggestion,
    InboundMessage,
    Outcome,
    SuggestionStatus,
)
from townhall.intake.services_result import TEXT_MAX, IntakeResult, _finish
from townhall.people.models import Citizen


@dataclass
class DuplicateCandidate:
    case: Case
    distance_m: float
    similarity: float
    score: float


# --- duplicates ----------------------------------------------------------------------


def duplicate_suggestion_decide(
    *, suggestion: DuplicateSuggestion, merge: bool, actor: Actor
) -> Case:
    """Staff decided on a suggested duplicate: merge the newer case into the open one, or
    record that they are different problems. Return the case to show next.

    Raise InvalidMerge or InvalidCaseInput if the merge is not possible any more.
    """
    with transaction.atomic():
        if merge:
            survivor = case_merge(case=suggestion.case, into=suggestion.candidate, actor=actor)
            suggestion.status = SuggestionStatus.MERGED
        else:
            survivor = suggestion.case
            suggestion.status = SuggestionStatus.DISMISSED
        suggestion.save(update_fields=["status"])
    return survivor


def _similarity(a: str, b: str) -> float:
    if not a.strip() or not b.strip():
        return 0.5  # nothing to compare: neither for nor against
    return float(fuzz.token_set_ratio(a.lower(), b.lower())) / 100.0


def _repeat_of(citizen: Citizen, service: ServiceType, text: str, now: datetime) -> Case | None:
    """An open case the same resident reported under the same service in the last two
    days with (almost) the same words, or None."""
    if not text.strip():
        return None
    recent = Case.objects.filter(
        reporter=citizen,
        service_type=service,
        status__in=sorted(OPEN_STATUSES),
        opened_at__gte=now - timedelta(days=2),
    ).only("id", "description", "opened_at", "status", "service_type_id")
    for case in recent.order_by("-opened_at")[:5]:
        if case.description and fuzz.token_set_ratio(text.lower(), case.description.lower()) >= 90:
            return case
    return None


def _duplicates(
    service: ServiceType, place: Place, text: str, now: datetime
) -> list[DuplicateCandidate]:
    """Open cases of the same service near `place`, ranked by distance and wording."""
    radius = service.duplicate_radius_m
    if not radius or not place.has_point or place.lat is None or place.long is None:
        return []
    since = now - timedelta(days=service.duplicate_window_days)
    found = []
    for near in case_nearby_open(
        service_type_id=service.pk,
        lat=place.lat,
        long=place.long,
        radius_m=radius,
        limit=11,  # one more: a case looking for its own duplicates finds itself
        supporters=False,
    ):
        if near.case.opened_at < since:
            continue
        closeness = max(0.0, 1.0 - near.distance_m / radius)
        similarity = _similarity(text, near.case.description)
        score = 0.6 * closeness + 0.4 * similarity
        found.append(DuplicateCandidate(near.case, near.distance_m, similarity, score))
    found.sort(key=lambda c: -c.score)
    return found[:5]


def _suggestions_save(
    case: Case, candidates: Sequence[DuplicateCandidate], now: datetime, *, fresh: bool = True
) -> int:
    """Store the candidates worth a person's look; `fresh`: the case was just opened, so
    it has no suggestions yet."""
    threshold: float = settings.TOWNHALL_DUPLICATE_SUGGEST_SCORE
    worth = [c for c in candidates if c.score >= threshold and c.case.pk != case.pk]
    if worth and not fresh:
        known = set(
            DuplicateSuggestion.objects.filter(case=case).values_list("candidate_id", flat=True)
        )
        worth = [c for c in worth if c.case.pk not in known]
    if not worth:
        return 0
    DuplicateSuggestion.objects.bulk_create(
        [
            DuplicateSuggestion(
                case=case,
                candidate=c.case,
                score=round(c.score, 4),
                distance_m=round(c.distance_m, 1),
                similarity=round(c.similarity, 4),
                created_at=now,
            )
            for c in worth
        ],
        ignore_conflicts=True,
    )
    return len(worth)


def _suggest_after_commit() -> None:
    """Make sure a run of duplicate_suggestions_pending starts after this commit (one task
    row per second per process, however many reports arrive: core.tasks)."""
    from townhall.intake.tasks import duplicate_suggestions_pending_task

    enqueue_once_on_commit(duplicate_suggestions_pending_task)


def duplicate_suggestions_pending(*, limit: int = 500) -> int:
    """Search duplicates for the cases queued by `suggestions_pending`; return how many
    cases were searched. Run after each burst of reports and by the scheduler (a lost
    enqueue only delays it); two runs at once may search a case twice, which is harmless."""
    rows = list(
        InboundMessage.objects.filter(suggestions_pending=True)
        .order_by("pk")
        .values_list("pk", "case_id")[:limit]
    )
    for _pk, case_id in rows:
        if case_id is not None:
            duplicate_suggestions_find(case_id=case_id)
    InboundMessage.objects.filter(pk__in=[pk for pk, _ in rows]).update(suggestions_pending=False)
    return len(rows)


def duplicate_suggestions_find(*, case_id: int) -> int:
    """Suggest to staff the earlier open cases that `case_id` may repeat; return how many.

    Idempotent (a pair is suggested once). Cases opened after it are left out: when they
    were opened, this one was their candidate.
    """
    case = Case.objects.select_related("service_type").filter(pk=case_id).first()
    if case is None or case.status not in OPEN_STATUSES:
        return 0
    place = Place(lat=case.lat, long=case.long)
    candidates = [
        c
        for c in _duplicates(case.service_type, place, case.description, case.opened_at)
        if c.case.pk != case.pk and c.case.opened_at <= case.opened_at
    ]
    return _suggestions_save(case, candidates, clock.now(), fresh=False)


def _follow(
    inbound: InboundMessage,
    message: Message,
    best: DuplicateCandidate,
    citizen: Citizen | None,
    photos: Sequence[CleanPhoto],
) -> IntakeResult:
    case, _added = case_follow(
        case=best.case, citizen=citizen, via=FollowVia.ME_TOO, channel=message.channel
    )
    if message.body.strip():
        case_note_add(
            case=case,
            text=_("Same problem reported again by %(channel)s (%(distance)d m away):\n%(text)s")
            % {
                "channel": message.channel,
                "distance": round(best.distance_m),
                "text": message.body[:TEXT_MAX],
            },
            actor=None,
            channel=message.channel,
        )
    if photos:
        case_photos_add(case=case, photos=photos, channel=message.channel)
    reply = _(
        "Thank you. This problem is already reported as %(reference)s; "
        "we will keep you posted on it."
    ) % {"reference": case.reference}
    return _finish(
        inbound,
        Outcome.FOLLOWED,
        case=case,
        reason=f"duplicate of {case.reference} (score {best.score:.2f})",
        reply=reply,
    )
