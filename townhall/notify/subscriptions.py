"""Residents sign up for bin reminders and for alerts near an address.

An address given on the portal is proven before anything but one confirmation is sent to
it, the way every contact in the portal is proven: the confirmation link (its secret made
when the e-mail is sent, see secret_links.py) proves the e-mail, as a sign-in link does
(people.citizen_email_prove). A signed-in resident chooses among the contacts they have
already proven (an e-mail by sign-in link, a phone by texted code), so nothing needs
confirming. Every reminder and alert carries a one-click link that stops that one
subscription (`subscription_stop_url`).

Abuse: confirmations to one address are capped a day (on top of the portal's rate limits),
whoever asks and from wherever; the portal answers the same whether or not an address was
known, sent to or capped; no URL carries an address (the stop link is a signed id).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from townhall.core import clock
from townhall.core.errors import NotFound, ValidationFailed
from townhall.core.security import SecurityEventKind, security_event
from townhall.notify.alerts import alert_subscribe
from townhall.notify.links import STOP_SALT, subscription_stop_token
from townhall.notify.models import (
    AlertSubscription,
    AlertTopic,
    NotificationKind,
    NotifyChannel,
    SubscriptionRequest,
)
from townhall.notify.queueing import templated_queue
from townhall.notify.secret_links import LINK_SLOT, token_digest
from townhall.people.contacts import email_normalise
from townhall.people.models import Citizen, ContactKind
from townhall.people.selectors import citizen_verified_contacts
from townhall.people.services import citizen_email_prove
from townhall.places.models import Place
from townhall.waste.models import WasteReminder
from townhall.waste.services import waste_reminder_subscribe

# Confirmation e-mails one address may be sent a day, whoever asks: nobody can use the
# form to flood a stranger's inbox (the rest are dropped; the page says the same).
CONFIRMATIONS_PER_DAY = 3
CONFIRM_HOURS = 72
RADII_M = (500, 1000, 3000)

What = SubscriptionRequest.What


def _described(what: str, place: Place, language: str) -> str:
    with translation.override(language):
        if what == What.BINS:
            return _("bin day reminders for %(address)s") % {"address": place.address}
        return _("alerts near %(address)s") % {"address": place.address}


def _checked(*, what: str, radius_m: int) -> None:
    if what not in What.values:
        raise ValidationFailed(_("Choose what to sign up for."), details={"what": ["unknown"]})
    if what == What.ALERTS and radius_m not in RADII_M:
        raise ValidationFailed(
            _("Choose how far around the address."), details={"radius_m": [str(radius_m)]}
        )


def subscription_request_make(
    *,
    what: str,
    email: str,
    place: Place,
    language: str = "",
    topic: AlertTopic | None = None,
    radius_m: int = 1000,
    council: str = "",
) -> bool:
    """Record a wish for reminders or alerts at `place` and queue the one e-mail that asks
    `email` to confirm it; return False (nothing sent) when the address had its share of
    confirmations today. The same wish asked again within the day sends nothing more
    (True: the first link still works). Raise ValidationFailed for a malformed address or choice."""
    value = email_normalise(email)
    _checked(what=what, radius_m=radius_m)
    language = language or settings.LANGUAGE_CODE
    since = clock.now() - timedelta(days=1)
    recent = SubscriptionRequest.objects.filter(email=value, created_at__gt=since)
    topic = topic if what == What.ALERTS else None
    if recent.filter(what=what, place=place, topic=topic).exists():
        return True  # asked already today: the first e-mail's link still works
    if recent.count() >= CONFIRMATIONS_PER_DAY:
        security_event(
            SecurityEventKind.RATE_LIMITED,
            detail={"what": "subscription confirmation e-mails to one address"},
        )
        return False
    with transaction.atomic():
        request = SubscriptionRequest.objects.create(
            what=what,
            email=value,
            language=language,
            place=place,
            topic=topic,
            radius_m=radius_m,
            # Nobody knows a secret for this hash: the link is made when the e-mail is sent.
            token_hash=token_digest(secrets.token_urlsafe(32)),
        )
        templated_queue(
            key=f"subscribe-confirm:{request.pk}",
            kind=NotificationKind.SUBSCRIBE_CONFIRM,
            channel=NotifyChannel.EMAIL,
            to=value,
            language=language,
            honour_opt_out=False,
            values={
                "subscription": _described(what, place, language),
                "confirm_url": LINK_SLOT,
                "council": council or "Townhall",
            },
        )
    return True


@dataclass(frozen=True)
class Confirmed:
    """What a confirmation link turned on."""

    what: str
    address: str


def subscription_confirm(*, token: str) -> Confirmed:
    """The confirmation link was opened and confirmed: the address is proven, so the wish
    becomes a subscription. Raise NotFound for an unknown, used or expired link."""
    since = clock.now() - timedelta(hours=CONFIRM_HOURS)
    with transaction.atomic():
        request = (
            SubscriptionRequest.objects.select_for_update(of=("self",))
            .select_related("place", "topic")
            .filter(token_hash=token_digest(token), created_at__gt=since)
            .first()
        )
        if request is None:
            raise NotFound(_("That link is not valid."))
        citizen = citizen_email_prove(
            email=request.email, language=request.language, proof="subscription link"
        )
        _subscribe(
            citizen=citizen,
            what=request.what,
            place=request.place,
            channel=NotifyChannel.EMAIL,
            to=request.email,
            topic=request.topic,
            radius_m=request.radius_m,
            language=request.language,
        )
        request.delete()  # used: the link works once
    return Confirmed(what=request.what, address=request.place.address)


def subscription_for_citizen(
    *,
    citizen: Citizen,
    what: str,
    place: Place,
    contact_point_id: int,
    topic: AlertTopic | None = None,
    radius_m: int = 1000,
) -> Confirmed:
    """Subscribe a signed-in resident at once, to one of the contacts they have proven.
    Raise ValidationFailed for a contact that is not one of those, or a bad choice."""
    _checked(what=what, radius_m=radius_m)
    point = next((p for p in citizen_verified_contacts(citizen) if p.pk == contact_point_id), None)
    if point is None or point.kind not in (ContactKind.EMAIL, ContactKind.PHONE):
        raise ValidationFailed(
            _("Choose one of your confirmed addresses or phones."),
            details={"contact": [str(contact_point_id)]},
        )
    channel = NotifyChannel.EMAIL if point.kind == ContactKind.EMAIL else NotifyChannel.SMS
    with transaction.atomic():
        _subscribe(
            citizen=citizen,
            what=what,
            place=place,
            channel=channel,
            to=point.value,
            topic=topic,
            radius_m=radius_m,
            language=citizen.preferred_language or settings.LANGUAGE_CODE,
        )
    return Confirmed(what=what, address=place.address)


def _subscribe(
    *,
    citizen: Citizen,
    what: str,
    place: Place,
    channel: str,
    to: str,
    topic: AlertTopic | None,
    radius_m: int,
    language: str,
) -> None:
    if what == What.BINS:
        email, phone = (to, "") if channel == NotifyChannel.EMAIL else ("", to)
        waste_reminder_subscribe(place=place, email=email, phone=phone, language=language)
        return
    same = AlertSubscription.objects.filter(
        citizen=citizen, topic=topic, channel=channel, lat=place.lat, long=place.long
    )
    if same.exists():  # asked twice: one subscription, with the latest radius
        same.update(radius_m=radius_m, active=True)
        return
    alert_subscribe(
        citizen=citizen,
        channel=channel,
        topic=topic,
        lat=place.lat,
        long=place.long,
        radius_m=radius_m,
        address=place.address,
    )


# --- stopping ---------------------------------------------------------------------------


def subscription_stop_by_token(*, token: str) -> str:
    """Stop the subscription a stop link names; return what it was (bins or alerts).
    Raise NotFound if the link is not one of ours. Stopping twice is no error."""
    try:
        data: dict[str, Any] = signing.loads(token, salt=STOP_SALT)
        what, pk = What(data["w"]), int(data["id"])
    except (signing.BadSignature, KeyError, ValueError, TypeError) as exc:
        raise NotFound(_("That link is not valid.")) from exc
    model = WasteReminder if what == What.BINS else AlertSubscription
    if (
        not model.objects.filter(pk=pk).update(active=False)
        and not model.objects.filter(pk=pk).exists()
    ):
        raise NotFound(_("That link is not valid."))
    return str(what)


@dataclass(frozen=True)
class Held:
    """One subscription as its resident sees it on their account page."""

    what: str
    label: str
    to: str
    stop_token: str


def subscriptions_of(citizen: Citizen) -> list[Held]:
    """The active reminders and alerts that reach `citizen`'s proven contacts."""
    proven = [p.value for p in citizen_verified_contacts(citizen)]
    reminders = WasteReminder.objects.filter(
        Q(email__in=proven) | Q(phone__in=proven), active=True
    ).select_related("place")
    held = [
        Held(
            What.BINS,
            r.place.address,
            r.email or r.phone,
            subscription_stop_token(what=What.BINS, pk=r.pk),
        )
        for r in (reminders.order_by("pk") if proven else [])
    ]
    held += [
        Held(
            What.ALERTS,
            s.address or (s.topic.name if s.topic else ""),
            str(s.get_channel_display()),
            subscription_stop_token(what=What.ALERTS, pk=s.pk),
        )
        for s in AlertSubscription.objects.filter(citizen=citizen, active=True)
        .select_related("topic")
        .order_by("pk")
    ]
    return held


def subscription_requests_purge() -> int:
    """Delete wishes whose confirmation link expired (an e-mail address nobody proved)."""
    cutoff = clock.now() - timedelta(hours=CONFIRM_HOURS)
    deleted, _rows = SubscriptionRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
