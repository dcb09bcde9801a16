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
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from townhall.cases.models import Case
from townhall.cases.photos import CleanPhoto, photo_clean
from townhall.cases.services import (
    case_open,
    case_photos_add,
)
from townhall.catalog.models import Priority
from townhall.core import clock
from townhall.core.db import KeyReservations
from townhall.core.errors import ValidationFailed
from townhall.intake.boundary import boundary_check
from townhall.intake.messages import Attachment, Dedupe, Message, Place, Sender
from townhall.intake.models import (
    InboundAttachment,
    InboundMessage,
    Outcome,
)
from townhall.intake.normalise import line_clean, message_normalise, raw_clean
from townhall.intake.services_duplicates import (
    DuplicateCandidate,
    _duplicates,
    _follow,
    _repeat_of,
    _suggest_after_commit,
    _suggestions_save,
    duplicate_suggestion_decide,
    duplicate_suggestions_find,
    duplicate_suggestions_pending,
)
from townhall.intake.services_result import (
    ASYNC_CHANNELS,
    RAW_MAX,
    TEXT_MAX,
    IntakeResult,
    _finish,
    _outcome_set,
)
from townhall.intake.services_routing import _service_for, triage_review_decide
from townhall.intake.services_thread import (
    _about_case,
    _add_to_case,
    _only_reference,
    _report_contacts,
    _speaks_for_reporter,
    _status_reply,
    _thread_case,
)
from townhall.people.models import Citizen
from townhall.people.services import citizen_resolve

# The pipeline's steps live in services_result, services_thread, services_routing and
# services_duplicates; their public names are kept importable from here.
__all__ = [
    "ASYNC_CHANNELS",
    "RAW_MAX",
    "TEXT_MAX",
    "DuplicateCandidate",
    "IntakeResult",
    "duplicate_suggestion_decide",
    "duplicate_suggestions_find",
    "duplicate_suggestions_pending",
    "intake_accept",
    "intake_process_pending",
    "intake_quarantine",
    "intake_submit",
    "triage_review_decide",
]

logger = logging.getLogger(__name__)

# "thanks", "ok!", "yes": nothing to act on without a place or a photo.
_inbound_keys = KeyReservations(InboundMessage)
_SHORT = re.compile(r"^\W*[^\W\d]*\W*(?:\s+[^\W\d]+\W*)?$")


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
        jurisdiction_id=message.jurisdiction_id,
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
        jurisdiction_id=inbound.jurisdiction_id,
        external_id=inbound.external_id,
        source=inbound.source,
        received_at=inbound.received_at,
    )


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

    if later and service.duplicate_radius_m and place.has_point:
        # Queued on the message row itself: no extra statement per report.
        inbound.suggestions_pending = True
        _suggest_after_commit()
    # A message not stored yet (a person waits: intake_submit) is written in the case's
    # own statement, with its outcome: one round trip fewer on the busiest path.
    written = inbound.pk is None

    def message_row(case: Case) -> list[InboundMessage]:
        inbound.pk = _inbound_keys.take()
        _outcome_set(inbound, Outcome.OPENED, case=case)
        return [inbound]

    case = case_open(
        with_rows=message_row if written else None,
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
    if not later:
        _suggestions_save(case, candidates, now)
    suggestions = [(code, p) for code, p in inbound.triage.get("suggestions", [])]
    return _finish(inbound, Outcome.OPENED, case=case, suggestions=suggestions, written=written)


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
