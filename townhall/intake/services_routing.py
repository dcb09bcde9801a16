"""Intake: which service a message is for (the sender's choice in its council, or triage's),
and a person's decision on a case triage was unsure about."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from townhall.cases.errors import InvalidCaseInput
from townhall.cases.models import Case
from townhall.cases.services import (
    Actor,
    case_service_change,
)
from townhall.catalog.models import ServiceType
from townhall.core import clock
from townhall.intake.messages import IncomingMessage
from townhall.intake.models import (
    InboundMessage,
    ReviewStatus,
    TriageReview,
)

# --- triage --------------------------------------------------------------------------


def _service_by_code(code: str, jurisdiction_id: int | None) -> ServiceType:
    """The active service `code` of the message's council; without a council, the only
    council's that has it. Raise InvalidCaseInput when there is none, or when several
    councils share the code and the message does not say which one it is for."""
    found = ServiceType.objects.filter(code=code, active=True)
    if jurisdiction_id is not None:
        found = found.filter(jurisdiction_id=jurisdiction_id)
    services = list(found.order_by("pk")[:2])
    if not services:
        raise InvalidCaseInput(
            "The request could not be accepted.",
            details={"service_code": [f"Unknown service {code!r}."]},
        )
    if len(services) > 1:
        raise InvalidCaseInput(
            "The request could not be accepted.",
            details={
                "service_code": [
                    f"Service {code!r} is offered by several councils: the message must "
                    "say which council it is for (set the webhook source's jurisdiction)."
                ]
            },
        )
    return services[0]


def _service_for(
    message: IncomingMessage, inbound: InboundMessage
) -> tuple[ServiceType, TriageReview | None]:
    """The service the resident chose, or the classifier's; a review if it was unsure."""
    if message.service is not None:
        inbound.triage = {"routed": "chosen"}
        return message.service, None
    if message.service_code:
        inbound.triage = {"routed": "chosen"}
        return _service_by_code(message.service_code, message.jurisdiction_id), None
    # The message's council's services when it names one (two councils may share codes).
    offered = ServiceType.objects.filter(active=True)
    if message.jurisdiction_id is not None:
        offered = offered.filter(jurisdiction_id=message.jurisdiction_id)
    ranked: list[tuple[str, float]] = []
    model_id = None
    active: dict[str, ServiceType] = {}
    from townhall.intake.selectors_triage import triage_classifier_active

    loaded = triage_classifier_active()
    if loaded is not None and message.body.strip():
        model_id, classifier = loaded
        top = classifier.predict_top([message.body], k=len(classifier.labels))[0]
        # Only the services the classifier ranks near the top are read (a retired service
        # it still knows is skipped).
        wanted = [code for code, _p in top[:8]]
        active = {s.code: s for s in offered.filter(code__in=wanted)}
        ranked = [(code, round(float(p), 4)) for code, p in top if code in active][:3]
    threshold: float = settings.TOWNHALL_TRIAGE_THRESHOLD
    own = loaded[1].threshold_for(ranked[0][0]) if ranked and loaded is not None else None
    if own is not None:  # a model tuned to a precision target on a tuning split says its own
        threshold = own
    inbound.triage = {"model": model_id, "suggestions": ranked}
    if ranked and ranked[0][1] >= threshold:
        inbound.triage["routed"] = "auto"
        return active[ranked[0][0]], None
    service = active[ranked[0][0]] if ranked else None
    if service is None:
        service = (
            offered.filter(code=settings.TOWNHALL_INTAKE_FALLBACK_SERVICE or "").first()
            or offered.order_by("name").first()
        )
    if service is None:
        raise InvalidCaseInput(
            "The request could not be accepted.",
            details={"service_code": ["No service is taking requests."]},
        )
    inbound.triage["routed"] = "review"
    confidence = ranked[0][1] if ranked else 0.0
    return service, TriageReview(
        suggestions=[[code, p] for code, p in ranked], confidence=confidence
    )


def triage_review_decide(*, review: TriageReview, service: ServiceType, actor: Actor) -> Case:
    """A person chose the service of a case the classifier was unsure about.

    Raise InvalidCaseInput if the case can no longer move (see case_service_change).
    """
    case = review.case
    with transaction.atomic():
        if service.pk != case.service_type_id:
            case_service_change(
                case=case,
                service_type=service,
                actor=actor,
                reason=_("Triage"),
            )
            review.status = ReviewStatus.CORRECTED
        else:
            review.status = ReviewStatus.CONFIRMED
        review.decided_at = clock.now()
        review.decided_by = actor  # type: ignore[assignment]
        review.save(update_fields=["status", "decided_at", "decided_by"])
    return case  # case_service_change updated it in place
