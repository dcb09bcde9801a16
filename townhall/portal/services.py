"""What the portal writes: a report becomes a case through the same case services as
every other channel, with its reporter resolved from the contact details ("tell us once")."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence

import orjson
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from townhall.cases.errors import InvalidCaseInput
from townhall.cases.models import Case, FollowVia
from townhall.cases.photos import CleanPhoto
from townhall.cases.services import (
    case_follow,
    follow_request_confirm,
    follow_request_create,
    follow_request_get,
    follow_requests_recent,
)
from townhall.catalog.models import ServiceType
from townhall.core import clock
from townhall.core.errors import ValidationFailed
from townhall.core.security import SecurityEventKind, security_event
from townhall.intake.messages import Dedupe, IncomingMessage, Location, Sender
from townhall.intake.services import intake_submit
from townhall.notify.services import follow_confirmation_queue
from townhall.people.contacts import email_normalise
from townhall.people.models import Channel, Citizen, ContactKind
from townhall.people.selectors import citizen_by_contact
from townhall.people.services import citizen_email_prove, citizen_resolve
from townhall.portal.selectors import missed_collection_refusal

# Where a report is: a map point and/or an address, the intake pipeline's own shape.


def reporter_resolve(
    *, name: str = "", email: str = "", phone: str = "", language: str = ""
) -> Citizen | None:
    """The citizen behind the contact details, or None when the resident gave none."""
    if not email and not phone:
        return None
    preferred = Channel.SMS if phone and not email else Channel.EMAIL
    return citizen_resolve(
        name=name,
        email=email or None,
        phone=phone or None,
        language=language or None,
        channel=preferred,
    )


def report_submit(
    *,
    service_type: ServiceType,
    location: Location,
    description: str,
    answers: Mapping[str, object],
    photos: Sequence[CleanPhoto] = (),
    name: str = "",
    email: str = "",
    phone: str = "",
    language: str = "",
) -> Case:
    """Open a case from the portal's report form, with its photos, in one transaction,
    through the intake pipeline like every other channel.

    The resident has seen the open reports nearby, so a likely duplicate is only
    suggested to staff. With no place chosen, the first photo that knows where it was
    taken gives the point. A missed-bin report waits until the crews are done on a day
    that bin was collected at the address. Raise InvalidCaseInput (nothing written) if it
    is refused.
    """
    too_early = _missed_collection_refusal(service_type, location)
    if too_early:
        raise InvalidCaseInput(
            _("The request could not be accepted."), details={"collection": [too_early]}
        )
    raw = orjson.dumps(
        {
            "service": service_type.code,
            "description": description,
            "answers": dict(answers),
            "lat": location.lat,
            "long": location.long,
            "address": location.address,
            "address_id": location.address_id,
            "photos": len(photos),
            "name": name,
            "email": email,
            "phone": phone,
        },
        default=str,
    ).decode()
    result = intake_submit(
        IncomingMessage(
            channel=Channel.WEB,
            sender=Sender(email=email, phone=phone, name=name, language=language),
            text=description,
            photos=tuple(photos),
            place=location,
            service=service_type,
            answers=answers,
            dedupe=Dedupe.SUGGEST,
            raw=raw,
        )
    )
    assert result.case is not None  # a chosen service with SUGGEST always opens a case
    return result.case


def _missed_collection_refusal(service: ServiceType, location: Location) -> str:
    """For a missed-bin service, why it cannot be reported yet at this address ("" if it
    can); the report form says the same at its address step."""
    refusal = missed_collection_refusal(service_type=service, location=location, now=clock.now())
    return refusal.reason if refusal else ""


def voice_key(session_voice: str, case: Case) -> str:
    """The opaque key of one browser session's voice on one case (a keyed hash of a
    random id kept in the session, per case so voices on two cases cannot be linked)."""
    return hmac.new(
        settings.SECRET_KEY.encode(), f"voice:{session_voice}:{case.pk}".encode(), hashlib.sha256
    ).hexdigest()


def me_too(
    *, case: Case, voice: str, email: str = "", language: str = "", citizen: Citizen | None = None
) -> tuple[Case, bool, bool]:
    """Add the resident's voice to an existing case, once per browser session (`voice`)
    and once per person. A signed-in resident (`citizen`) follows it at once; an e-mail
    address follows it only once confirmed: the voice counts now, and the address is sent
    a confirmation link. Return the case, whether a voice was added, and whether a
    confirmation was sent."""
    with transaction.atomic():
        followed, added = case_follow(case=case, citizen=citizen, via=FollowVia.ME_TOO, voice=voice)
        sent = False
        if email and citizen is None:
            follow_confirmation_request(
                case=followed, email=email, via=FollowVia.ME_TOO, language=language, voice=voice
            )
            sent = True
        return followed, added, sent


def updates_subscribe(
    *, case: Case, email: str, language: str = "", citizen: Citizen | None = None
) -> tuple[Case, bool]:
    """Updates by e-mail: at once for a signed-in resident whose address it is, else only
    once the address is confirmed (a confirmation link is sent). Return the case and
    whether the resident follows it now."""
    with transaction.atomic():
        if citizen is not None and _owns_email(citizen, email):
            return case_follow(case=case, citizen=citizen, via=FollowVia.SUBSCRIBED)[0], True
        follow_confirmation_request(
            case=case, email=email, via=FollowVia.SUBSCRIBED, language=language
        )
        return case, False


def _owns_email(citizen: Citizen, email: str) -> bool:
    """True if `email` is one of the signed-in resident's own addresses."""
    try:
        value = email_normalise(email)
    except ValidationFailed:
        return False
    owner = citizen_by_contact(kind=ContactKind.EMAIL, value=value)
    return owner is not None and owner.pk == citizen.pk


# Confirmation e-mails one address may be sent a day: nobody can use the follow form to
# flood a stranger's inbox (the rest are dropped silently; the page says the same).
FOLLOW_CONFIRMATIONS_PER_DAY = 5


def follow_confirmation_request(
    *, case: Case, email: str, via: str, language: str = "", voice: str = ""
) -> bool:
    """Record the wish and queue the confirmation e-mail through the outbox; return False
    (nothing sent) when the address had its share of confirmations today."""
    if follow_requests_recent(email=email) >= FOLLOW_CONFIRMATIONS_PER_DAY:
        security_event(
            SecurityEventKind.RATE_LIMITED,
            subject=case.reference,
            detail={"what": "follow confirmation e-mails to one address"},
        )
        return False
    request, _token = follow_request_create(
        case=case, email=email, via=via, language=language, voice=voice
    )
    # The link's secret is made again as the e-mail is sent: no working link is stored.
    follow_confirmation_queue(case=case, email=email, request_id=request.pk, language=language)
    return True


def follow_confirm(*, token: str, language: str = "") -> tuple[Case, bool]:
    """The confirmation link was opened and confirmed: the address is proven, so the
    person behind it follows the case now. Raise CaseNotFound for an unknown, used or
    expired link."""
    with transaction.atomic():
        request = follow_request_get(token=token)
        # Opening the link proved the address: it is that person's, verified.
        citizen = citizen_email_prove(
            email=request.email,
            language=request.language or language or None,
            proof="follow confirmation link",
        )
        return follow_request_confirm(request=request, citizen=citizen)
