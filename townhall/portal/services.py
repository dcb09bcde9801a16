"""What the portal writes: a report becomes a case through the same case services as
every other channel, with its reporter resolved from the contact details ("tell us once")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import orjson
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from townhall.cases.errors import InvalidCaseInput
from townhall.cases.models import Case, FollowVia
from townhall.cases.photos import CleanPhoto
from townhall.cases.services import case_follow
from townhall.catalog.models import ServiceType
from townhall.core import clock
from townhall.intake.messages import Dedupe, Message, Place, Sender
from townhall.intake.services import intake_submit
from townhall.people.models import Channel, Citizen
from townhall.people.services import citizen_resolve
from townhall.places.selectors import place_by_property_id
from townhall.waste.selectors import collection_missed_report_allowed

# Where a report is: a map point and/or an address, the intake pipeline's own shape.
Location = Place


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
        Message(
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
    can). An address the gazetteer does not know cannot be checked, so it is accepted for
    staff to look at."""
    stream = settings.TOWNHALL_MISSED_COLLECTION_SERVICES.get(service.code)
    place = place_by_property_id(location.address_id) if stream else None
    if not stream or place is None:
        return ""
    check = collection_missed_report_allowed(place=place, stream=stream, now=clock.now())
    return "" if check.allowed else str(check.reason)


def me_too(*, case: Case, email: str = "", language: str = "") -> tuple[Case, bool]:
    """Add the resident's voice (and, with an e-mail, their inbox) to an existing case."""
    with transaction.atomic():
        citizen = reporter_resolve(email=email, language=language)
        return case_follow(case=case, citizen=citizen, via=FollowVia.ME_TOO)


def updates_subscribe(*, case: Case, email: str, language: str = "") -> tuple[Case, bool]:
    with transaction.atomic():
        citizen = reporter_resolve(email=email, language=language)
        return case_follow(case=case, citizen=citizen, via=FollowVia.SUBSCRIBED)
