"""Reads for intake: what the console shows of triage and duplicates, and message history."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from townhall.cases.models import Case
from townhall.catalog.models import ServiceType
from townhall.intake.models import (
    DuplicateSuggestion,
    InboundMessage,
    ReviewStatus,
    SuggestionStatus,
    TriageReview,
)


@dataclass(frozen=True)
class Suggestion:
    service: ServiceType
    probability: float


def triage_review_pending(*, case: Case) -> tuple[TriageReview, list[Suggestion]] | None:
    """The case's open triage review with its suggestions as services, or None."""
    review = TriageReview.objects.filter(case=case, status=ReviewStatus.PENDING).first()
    if review is None:
        return None
    codes = [str(code) for code, _p in review.suggestions]
    services = {
        s.code: s
        for s in ServiceType.objects.filter(
            code__in=codes, jurisdiction_id=case.service_type.jurisdiction_id, active=True
        ).select_related("department")
    }
    suggestions = [
        Suggestion(service=services[str(code)], probability=float(p))
        for code, p in review.suggestions
        if str(code) in services
    ]
    return review, suggestions


def duplicate_suggestions_open(*, case: Case) -> QuerySet[DuplicateSuggestion]:
    """Open cases that may be the same problem as `case`, best match first."""
    return (
        DuplicateSuggestion.objects.filter(case=case, status=SuggestionStatus.OPEN)
        .select_related("candidate", "candidate__service_type")
        .order_by("-score")
    )


def messages_for_case(*, case: Case) -> QuerySet[InboundMessage]:
    """What arrived about `case` on any channel, oldest first, with their attachments."""
    return (
        InboundMessage.objects.filter(case=case)
        .prefetch_related("attachments")
        .defer("raw")
        .order_by("received_at")
    )
