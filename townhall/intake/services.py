"""The intake pipeline: every channel's message, one journey.

In order: keep the message as it came; drop machine mail and floods; recognise the
sender ("tell us once"); thread a reply onto the case it answers; choose the service
(the resident's choice, or the triage classifier's); look for an open case that is the
same problem; then open a case, add to one, or link the sender to one as a follower.

Asynchronous channels (e-mail, SMS, webhooks) call `intake_accept`: the message is
committed first, so whatever fails afterwards the request is kept and
`intake_process_pending` tries it again. Channels where a person waits for the answer
(portal, Open311, the phone form, the assistant) call `intake_submit`: one transaction,
and a refusal raises for the caller to show in its own format, with nothing written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from rapidfuzz import fuzz

from townhall.cases.errors import CaseNotFound, InvalidCaseInput
from townhall.cases.lifecycle import FINISHED_STATUSES, OPEN_STATUSES, CaseStatus
from townhall.cases.models import Case, FollowVia
from townhall.cases.photos import CleanPhoto, photo_clean
from townhall.cases.selectors import case_get_by_reference, case_nearby_open
from townhall.cases.services import (
    Actor,
    case_follow,
    case_merge,
    case_note_add,
    case_open,
    case_photos_add,
    case_service_change,
    case_transition,
)
from townhall.catalog.models import Priority, ServiceType
from townhall.core import clock
from townhall.core.errors import ValidationFailed
from townhall.core.tasks import enqueue_with_transaction
from townhall.intake.boundary import boundary_check
from townhall.intake.messages import Attachment, Dedupe, Message, Place, Sender
from townhall.intake.models import (
    DuplicateSuggestion,
    InboundAttachment,
    InboundMessage,
    Outcome,
    ReviewStatus,
    SuggestionStatus,
    TriageReview,
)
from townhall.intake.normalise import line_clean, message_normalise, raw_clean
from townhall.notify.services import notification_reporter_recheck
from townhall.people.contacts import email_normalise, phone_normalise
from townhall.people.models import Channel, Citizen, ContactKind
from townhall.people.selectors import contact_trusted_for_case
from townhall.people.services import citizen_resolve, report_contacts_record

logger = logging.getLogger(__name__)

# Channels where nobody chose a service or saw the nearby reports before sending.
ASYNC_CHANNELS = frozenset({Channel.EMAIL, Channel.SMS, Channel.SOCIAL})
RAW_MAX = 1_000_000  # characters of raw payload kept inline; attachments are files
TEXT_MAX = 10_000
# "thanks", "ok!", "yes": nothing to act on without a place or a photo.
_SHORT = re.compile(r"^\W*[^\W\d]*\W*(?:\s+[^\W\d]+\W*)?$")


@dataclass
class DuplicateCandidate:
    case: Case
    distance_m: float
    similarity: float
    score: float


@dataclass
class IntakeResult:
    message: InboundMessage
    case: Case | None = None
    reply: str = ""
    suggestions: list[tuple[str, float]] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        return self.message.outcome


# --- entry points --------------------------------------------------------------------


def intake_accept(message: Message) -> IntakeResult:
    """Keep `message` (committed), then process it; return what became of it.

    A redelivery of a message already received (same channel and provider id) returns
    the first delivery's result. If processing fails unexpectedly the message stays
    RECEIVED for `intake_process_pending`; bad input marks it REJECTED with the reason.
    Text is cleaned first (`message_normalise`): no control character reaches the database.
    """
    message = message_normalise(message)
    earlier = _earlier_delivery(message)
    if earlier is not None:
        return IntakeResult(message=earlier, case=earlier.case)
    inbound = _store(message)
    try:
        with transaction.atomic():
            return _process(inbound, message)
    except ValidationFailed as exc:
        inbound.refresh_from_db()  # what the failed step set in memory was rolled back
        inbound.outcome = Outcome.REJECTED
        inbound.reason = _reason_of(exc)
        inbound.processed_at = clock.now()
        inbound.save(update_fields=["outcome", "reason", "processed_at"])
        return IntakeResult(
            message=inbound,
            reply=_("We could not take this request: %(reason)s") % {"reason": inbound.reason},
        )
    except Exception:
        logger.exception("intake: message %s kept for a retry", inbound.pk)
        inbound.refresh_from_db()
        return IntakeResult(message=inbound)


def intake_submit(
    message: Message, *, then: Callable[[IntakeResult], None] | None = None
) -> IntakeResult:
    """Process `message` from a channel where a person waits, in one transaction.

    Raise InvalidCaseInput or ValidationFailed (nothing written) if it cannot be accepted.
    `then`, if given, runs inside the same transaction with the result, for a caller's
    own rows that must commit with the case (an Open311 token): calling this inside the
    caller's transaction instead would cost a savepoint's two round trips.
    """
    message = message_normalise(message)
    with transaction.atomic():
        # Written once, with what became of it, at the end of the same transaction.
        inbound = _build(message)
        result = _process(inbound, message)
        _attachments_save(result.message, message)
        if then is not None:
            then(result)
        return result


def intake_quarantine(
    *, channel: str, raw: bytes | str, source: str, reason: str
) -> InboundMessage:
    """Keep a message the pipeline could not take (it raised, or it is too large) as
    REJECTED, raw payload and all, for a person to look at; the channel carries on."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    inbound = InboundMessage(
        channel=channel,
        received_at=clock.now(),
        source=source[:60],
        raw=raw_clean(text[:RAW_MAX]),
        outcome=Outcome.REJECTED,
        reason=line_clean(f"quarantined: {reason}")[:300],
        processed_at=clock.now(),
    )
    inbound.save(force_insert=True)
    return inbound


def intake_process_pending(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Process messages a crash or an error left RECEIVED; return how many were done."""
    cutoff = clock.now() - older_than
    done = 0
    pending = InboundMessage.objects.filter(outcome=Outcome.RECEIVED, received_at__lt=cutoff)
    for inbound in pending.order_by("received_at")[:200]:
        message = _message_from_row(inbound)
        try:
            with transaction.atomic():
                _process(inbound, message)
        except ValidationFailed as exc:
            inbound.outcome, inbound.reason = Outcome.REJECTED, _reason_of(exc)
            inbound.processed_at = clock.now()
            inbound.save(update_fields=["outcome", "reason", "processed_at"])
        except Exception:
            logger.exception("intake: message %s failed again", inbound.pk)
            continue
        done += 1
    return done


# --- the steps -----------------------------------------------------------------------


def _earlier_delivery(message: Message) -> InboundMessage | None:
    if not message.external_id:
        return None
    # No ORDER BY: the (channel, external_id) index answers it alone.
    found = InboundMessage.objects.select_related("case").filter(
        channel=message.channel, external_id=message.external_id[:300]
    )[:1]
    return next(iter(found), None)


def _build(message: Message) -> InboundMessage:
    place = message.place
    return InboundMessage(
        channel=message.channel,
        received_at=message.received_at or clock.now(),
        external_id=message.external_id[:300],
        source=message.source[:60],
        sender_email=message.sender.email[:254],
        sender_phone=message.sender.phone[:20],
        sender_handle=message.sender.handle[:200],
        sender_name=message.sender.name[:200],
        sender_key=message.sender.key,
        subject=message.subject[:300],
        text=message.text[:TEXT_MAX],
        thread_hint=message.thread_hint[:300],
        thread_signed=message.thread_signed,
        service_code=(message.service.code if message.service else message.service_code)[:60],
        lat=place.lat,
        long=place.long,
        address=place.address[:300],
        raw=message.raw[:RAW_MAX],
    )


def _attachments_save(inbound: InboundMessage, message: Message) -> None:
    for attachment in message.attachments:
        stored = InboundAttachment(
            message=inbound,
            filename=attachment.filename[:200],
            content_type=attachment.content_type[:100],
            size=len(attachment.data),
            inline=attachment.inline,
        )
        stored.file.save(attachment.filename or "attachment", ContentFile(attachment.data))


def _store(message: Message) -> InboundMessage:
    with transaction.atomic():
        inbound = _build(message)
        inbound.save(force_insert=True)
        _attachments_save(inbound, message)
    return inbound


def _message_from_row(inbound: InboundMessage) -> Message:
    attachments = []
    for stored in inbound.attachments.all():
        with stored.file.open("rb") as handle:
            attachments.append(
                Attachment(
                    filename=stored.filename,
                    content_type=stored.content_type,
                    data=handle.read(),
                    inline=stored.inline,
                )
            )
    return Message(
        channel=inbound.channel,
        sender=Sender(
            email=inbound.sender_email,
            phone=inbound.sender_phone,
            handle=inbound.sender_handle,
            name=inbound.sender_name,
        ),
        text=inbound.text,
        subject=inbound.subject,
        attachments=tuple(attachments),
        place=Place(lat=inbound.lat, long=inbound.long, address=inbound.address),
        thread_hint=inbound.thread_hint,
        thread_signed=inbound.thread_signed,
        service_code=inbound.service_code,
        external_id=inbound.external_id,
        source=inbound.source,
        received_at=inbound.received_at,
    )


def _finish(
    inbound: InboundMessage,
    outcome: str,
    *,
    case: Case | None = None,
    reason: str = "",
    reply: str = "",
    suggestions: list[tuple[str, float]] | None = None,
) -> IntakeResult:
    inbound.outcome = outcome
    inbound.case = case
    inbound.reason = reason[:300]
    inbound.processed_at = clock.now()
    if inbound.pk is None:
        inbound.save(force_insert=True)
    else:
        inbound.save(
            update_fields=["outcome", "case", "reason", "processed_at", "citizen", "triage"]
        )
    return IntakeResult(message=inbound, case=case, reply=reply, suggestions=suggestions or [])


def _process(inbound: InboundMessage, message: Message) -> IntakeResult:
    now = message.received_at or clock.now()
    if message.automatic:
        return _finish(inbound, Outcome.IGNORED, reason=message.automatic)
    if message.channel in ASYNC_CHANNELS and _flooding(inbound, message, now):
        return _finish(inbound, Outcome.IGNORED, reason="rate limit: too many from this sender")
    citizen = _identify(message)
    inbound.citizen = citizen
    # What we answer the sender is in their language: the one they told us, else the
    # message's, else the site's.
    language = (citizen.preferred_language if citizen else "") or message.sender.language
    with translation.override(language or None):
        return _process_known(inbound, message, citizen, now)


def _process_known(
    inbound: InboundMessage, message: Message, citizen: Citizen | None, now: datetime
) -> IntakeResult:
    photos = list(message.photos) + _photos_from(message.attachments)
    place = _place_with_photos(message.place, photos)

    thread = _thread_case(message, citizen, now)
    if thread is not None:
        if not _speaks_for_reporter(message, thread):
            return _about_case(inbound, message, thread)
        return _add_to_case(inbound, message, thread, citizen, photos)

    body = message.body
    if message.channel in ASYNC_CHANNELS and not (message.service_code or message.service):
        if message.thread_hint and _only_reference(body, message.thread_hint):
            return _status_reply(inbound, message.thread_hint)
        if not photos and not place.has_point and _SHORT.match(body.strip()):
            return _finish(
                inbound,
                Outcome.ANSWERED,
                reason="too short to act on",
                reply=_(
                    "Thank you. To report a problem, tell us what it is and where, "
                    "or reply with a reference to hear how a request is going."
                ),
            )

    service, review = _service_for(message, inbound)
    boundary_check(service=service, lat=place.lat, long=place.long)
    if message.dedupe == Dedupe.AUTO and citizen is not None:
        repeat = _repeat_of(citizen, service, body, now)
        if repeat is not None:  # the same report sent twice (two addresses, a resend)
            return _add_to_case(inbound, message, repeat, citizen, photos)
    # Where nobody can be linked automatically, the search only feeds staff suggestions:
    # it runs after commit (a task), not while the resident or API client waits.
    later = message.dedupe == Dedupe.SUGGEST
    candidates = [] if later else _duplicates(service, place, body, now)
    best = candidates[0] if candidates else None
    if (
        message.dedupe == Dedupe.AUTO
        and best is not None
        and best.score >= settings.TOWNHALL_DUPLICATE_AUTO_SCORE
        # Never make a stranger follow a report about someone's home: staff decide.
        and not service.personal
    ):
        return _follow(inbound, message, best, citizen, photos)

    case = case_open(
        service_type=service,
        channel=message.channel,
        description=body[:TEXT_MAX],
        answers=message.answers,
        lat=place.lat,
        long=place.long,
        address=place.address,
        address_id=place.address_id,
        media_url=message.media_url,
        priority=message.priority or Priority.NORMAL,
        reporter=citizen,
        actor=message.actor,
        opened_at=now if message.received_at else None,
        # A message that did not come through the service's form could not be asked its
        # questions; staff ask them when they pick the case up.
        answers_partial=not (message.service or message.service_code)
        or message.channel in ASYNC_CHANNELS,
    )
    _report_contacts(case, message)
    if photos:
        case_photos_add(case=case, photos=photos, actor=message.actor, channel=message.channel)
    if review is not None:
        review.case = case
        review.save()
    if later:
        if service.duplicate_radius_m and place.has_point:
            _suggest_after_commit(case.pk)
    else:
        _suggestions_save(case, candidates, now)
    suggestions = [(code, p) for code, p in inbound.triage.get("suggestions", [])]
    return _finish(inbound, Outcome.OPENED, case=case, suggestions=suggestions)


def _reason_of(exc: ValidationFailed) -> str:
    details = "; ".join(
        f"{name}: {' '.join(str(m) for m in messages)}" for name, messages in exc.details.items()
    )
    return (details or str(exc.message))[:300]


def _flooding(inbound: InboundMessage, message: Message, now: datetime) -> bool:
    key = message.sender.key
    if not key:
        return False
    limit: int = settings.TOWNHALL_INTAKE_RATE_LIMIT_PER_HOUR
    recent = (
        InboundMessage.objects.filter(
            sender_key=key, received_at__gte=now - timedelta(hours=1), received_at__lte=now
        )
        .exclude(pk=inbound.pk)
        .count()
    )
    return recent >= limit


def _identify(message: Message) -> Citizen | None:
    sender = message.sender
    if not sender.given:
        return None
    channel = message.channel
    try:
        return citizen_resolve(
            name=sender.name,
            email=sender.email or None,
            phone=sender.phone or None,
            handle=sender.handle or None,
            language=sender.language or None,
            channel=channel,
        )
    except ValidationFailed:
        if channel not in ASYNC_CHANNELS:
            raise  # the form or API client shows it
        # A malformed From: the message is still a request; it just has no reply address.
        logger.info("intake: sender of a %s message not recognised", channel)
        return None


def _photos_from(attachments: Sequence[Attachment]) -> list[CleanPhoto]:
    photos: list[CleanPhoto] = []
    limit: int = settings.TOWNHALL_PHOTOS_PER_REPORT
    for attachment in attachments:
        if not attachment.content_type.startswith("image/") or len(photos) >= limit:
            continue
        try:
            photos.append(photo_clean(attachment.data, filename=attachment.filename))
        except ValidationFailed:
            continue  # kept with the message; not a photo we can show
    return photos


def _place_with_photos(place: Place, photos: Sequence[CleanPhoto]) -> Place:
    if place.has_point:
        return place
    located = next((p for p in photos if p.lat is not None and p.long is not None), None)
    if located is None:
        return place
    return Place(
        lat=located.lat, long=located.long, address=place.address, address_id=place.address_id
    )


# --- threading -----------------------------------------------------------------------


def _case_by_reference(reference: str) -> Case | None:
    try:
        case = case_get_by_reference(reference=reference)
    except CaseNotFound:
        return None
    hops = 0
    while case.status == CaseStatus.DUPLICATE and case.merged_into_id and hops < 10:
        case, hops = Case.objects.get(pk=case.merged_into_id), hops + 1
    return case


def _thread_case(message: Message, citizen: Citizen | None, now: datetime) -> Case | None:
    """The case this message continues, if any: a reference it carries, or for a text
    message, the sender's case that is waiting for them or that they texted just now."""
    if message.thread_hint:
        case = _case_by_reference(message.thread_hint)
        if case is not None and case.status != CaseStatus.CLOSED:
            return case
    if message.channel != Channel.SMS or citizen is None:
        return None
    waiting = (
        Case.objects.filter(reporter=citizen, status=CaseStatus.AWAITING_CITIZEN)
        .order_by("-updated_at")
        .first()
    )
    if waiting is not None:
        return waiting
    window = timedelta(minutes=settings.TOWNHALL_SMS_THREAD_MINUTES)
    last = (
        InboundMessage.objects.filter(
            citizen=citizen,
            channel=Channel.SMS,
            case__isnull=False,
            received_at__gte=now - window,
            case__status__in=sorted(OPEN_STATUSES),
        )
        .select_related("case")
        .order_by("-received_at")
        .first()
    )
    return last.case if last is not None else None


def _report_contacts(case: Case, message: Message) -> None:
    """Record the contacts given with the report that opened `case` (self-given for it),
    then make sure its acknowledgement goes only where it may."""
    sender = message.sender
    if not sender.given:
        return
    recorded = report_contacts_record(
        case_id=case.pk,
        email=sender.email or None,
        phone=sender.phone or None,
        handle=sender.handle or None,
    )
    if recorded:
        notification_reporter_recheck(case=case)


def _sender_point(message: Message) -> tuple[str, str] | None:
    sender = message.sender
    try:
        if sender.email:
            return ContactKind.EMAIL, email_normalise(sender.email)
        if sender.phone:
            return ContactKind.PHONE, phone_normalise(
                sender.phone, region=settings.TOWNHALL_PHONE_REGION
            )
    except ValidationFailed:
        return None
    if sender.handle.strip():
        return ContactKind.HANDLE, sender.handle.strip()[:254]
    return None


def _speaks_for_reporter(message: Message, case: Case) -> bool:
    """Whether `message` may write into `case` as its resident: it came to the case's
    signed reply address, or from one of the reporter's verified contacts, or from a
    contact given with that very report. A reference anyone can read on a letter or a
    public page proves nothing."""
    if message.thread_signed or message.actor is not None:
        return True
    point = _sender_point(message)
    if point is None:
        return False
    kind, value = point
    return contact_trusted_for_case(
        case_id=case.pk, reporter_id=case.reporter_id, kind=kind, value=value
    )


def _about_case(inbound: InboundMessage, message: Message, case: Case) -> IntakeResult:
    """A message about `case` from someone not known as its resident: kept with the case
    for staff (its messages list and an internal note), without writing into it as the
    resident, changing its status or restarting its clock."""
    body = message.body
    if message.thread_hint and _only_reference(body, message.thread_hint):
        return _status_reply(inbound, message.thread_hint)
    if body.strip():
        case_note_add(
            case=case,
            text=_(
                "Message about this case from someone not known as its resident "
                "(by %(channel)s; not added as theirs):\n%(text)s"
            )
            % {"channel": message.channel, "text": body[:TEXT_MAX]},
            actor=None,
            channel=message.channel,
        )
    reply = _("Thank you: we passed your message about %(reference)s to the team.") % {
        "reference": case.reference
    }
    return _finish(
        inbound,
        Outcome.ABOUT,
        case=case,
        reason="sender not verified as the resident of this case",
        reply=reply,
    )


def _only_reference(body: str, reference: str) -> bool:
    rest = re.sub(re.escape(reference), "", body, flags=re.IGNORECASE)
    return not re.sub(r"[\W_]+", "", rest)


def _add_to_case(
    inbound: InboundMessage,
    message: Message,
    case: Case,
    citizen: Citizen | None,
    photos: Sequence[CleanPhoto],
) -> IntakeResult:
    body = message.body
    if message.thread_hint and _only_reference(body, message.thread_hint) and not photos:
        return _status_reply(inbound, message.thread_hint)
    who = citizen.display_name if citizen and citizen.display_name else _("the resident")
    if body.strip():
        case_note_add(
            case=case,
            text=_("Message from %(who)s by %(channel)s:\n%(text)s")
            % {"who": who, "channel": message.channel, "text": body[:TEXT_MAX]},
            actor=None,
            channel=message.channel,
        )
    if photos:
        case_photos_add(case=case, photos=photos, channel=message.channel)
    if case.status == CaseStatus.AWAITING_CITIZEN:
        # The resident answered what we asked: the clock runs again.
        case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=None, channel=message.channel)
    reply = _("Thank you: we added your message to %(reference)s.") % {"reference": case.reference}
    return _finish(inbound, Outcome.ADDED, case=case, reply=reply)


def _status_reply(inbound: InboundMessage, reference: str) -> IntakeResult:
    case = _case_by_reference(reference)
    if case is None:
        return _finish(
            inbound,
            Outcome.ANSWERED,
            reason="unknown reference",
            reply=_("We have no request with the reference %(reference)s.")
            % {"reference": reference},
        )
    status = str(CaseStatus(case.status).label)
    reply = _("%(reference)s (%(service)s): %(status)s.") % {
        "reference": case.reference,
        "service": case.service_type.name,
        "status": status,
    }
    if case.expected_on and case.status not in FINISHED_STATUSES:
        reply += " " + _("Expected by %(date)s.") % {"date": case.expected_on.isoformat()}
    return _finish(inbound, Outcome.ANSWERED, case=case, reason="status asked", reply=reply)


# --- triage --------------------------------------------------------------------------


def _service_for(
    message: Message, inbound: InboundMessage
) -> tuple[ServiceType, TriageReview | None]:
    """The service the resident chose, or the classifier's; a review if it was unsure."""
    if message.service is not None:
        inbound.triage = {"routed": "chosen"}
        return message.service, None
    if message.service_code:
        service = ServiceType.objects.filter(code=message.service_code, active=True).first()
        if service is None:
            raise InvalidCaseInput(
                "The request could not be accepted.",
                details={"service_code": [f"Unknown service {message.service_code!r}."]},
            )
        inbound.triage = {"routed": "chosen"}
        return service, None
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
        active = {s.code: s for s in ServiceType.objects.filter(active=True, code__in=wanted)}
        ranked = [(code, round(float(p), 4)) for code, p in top if code in active][:3]
    threshold: float = settings.TOWNHALL_TRIAGE_THRESHOLD
    inbound.triage = {"model": model_id, "suggestions": ranked}
    if ranked and ranked[0][1] >= threshold:
        inbound.triage["routed"] = "auto"
        return active[ranked[0][0]], None
    service = active[ranked[0][0]] if ranked else None
    if service is None:
        service = (
            ServiceType.objects.filter(
                active=True, code=settings.TOWNHALL_INTAKE_FALLBACK_SERVICE or ""
            ).first()
            or ServiceType.objects.filter(active=True).order_by("name").first()
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


# --- duplicates ----------------------------------------------------------------------


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


def _suggest_after_commit(case_id: int) -> None:
    from townhall.intake.tasks import duplicate_suggestions_task

    enqueue_with_transaction(duplicate_suggestions_task, case_id)


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
