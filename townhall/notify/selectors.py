"""Reads for notifications."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

from django.conf import settings
from django.db.models import Count

from townhall.notify.models import (
    Notification,
    NotificationStatus,
    NotificationTemplate,
    NotifyChannel,
)
from townhall.people.models import Channel, Citizen, ConsentPurpose, ConsentRecord, ContactKind
from townhall.people.selectors import case_contacts, citizen_contact


@dataclass(frozen=True)
class TemplateText:
    """The words of a template, wherever they came from."""

    subject: str
    body: str
    language: str


@functools.cache
def default_templates() -> dict[tuple[str, str, str], TemplateText]:
    """Return the packaged default templates keyed by (kind, channel, language)."""
    data = resources.files("townhall.notify").joinpath("data")
    # templates.json: what case events send; confirmations.json: e-mails that confirm an
    # address before anything else is sent to it (one channel only); staff.json: mail to
    # staff (escalations, watched cases); subscriptions.json: sign-in links, reminders and
    # their confirmations; updates.json: the honest delay update and supervisor flags.
    rows = [
        t
        for name in (
            "templates.json",
            "confirmations.json",
            "staff.json",
            "subscriptions.json",
            "updates.json",
            "appointments.json",  # appointments: booked, moved, cancelled, reminder
            "forwarding.json",  # staff: a case could not be sent to the body that owns it
        )
        for t in json.loads(data.joinpath(name).read_text("utf-8"))
    ]
    return {
        (t["kind"], t["channel"], t["language"]): TemplateText(
            t["subject"], t["body"], t["language"]
        )
        for t in rows
    }


def notification_template_get(*, kind: str, channel: str, language: str) -> TemplateText:
    """Return the council's template for kind/channel/language, else the packaged default,
    falling back to the site's default language; raise LookupError if there is none."""
    fallback = settings.LANGUAGE_CODE
    for lang in dict.fromkeys([language, fallback]):
        row = NotificationTemplate.objects.filter(
            kind=kind, channel=channel, language=lang, active=True
        ).first()
        if row is not None:
            return TemplateText(row.subject, row.body, row.language)
        default = default_templates().get((kind, channel, lang))
        if default is not None:
            return default
    raise LookupError(f"No template for {kind}/{channel} in {language} or {fallback}.")


@functools.cache
def survey_invites() -> dict[str, dict[str, str]]:
    """The survey invitation of a resolution message, {channel: {language: text}}
    (data/survey_invites.json; `{url}` stands for the survey link)."""
    data = resources.files("townhall.notify").joinpath("data", "survey_invites.json")
    raw = json.loads(data.read_text("utf-8"))
    return {channel: dict(texts) for channel, texts in raw.items() if not channel.startswith("_")}


def surveys_declined(*, citizen_id: int) -> bool:
    """Whether the resident's latest word on satisfaction surveys is "no"."""
    latest = (
        ConsentRecord.objects.filter(citizen_id=citizen_id, purpose=ConsentPurpose.SURVEYS)
        .order_by("-at", "-id")
        .values_list("granted", flat=True)
        .first()
    )
    return latest is False


def notification_reach(citizen: Citizen, *, case_id: int | None = None) -> tuple[str, str]:
    """Return (channel, address): the resident's choice if we can reach them there.

    For the reporter of `case_id`, only contacts that may hear about that case count:
    their verified ones or those given with that very report (people.case_contacts).
    """
    allowed = case_contacts(citizen=citizen, case_id=case_id) if case_id is not None else None
    if allowed is not None:
        email = allowed.get(ContactKind.EMAIL)
        phone = allowed.get(ContactKind.PHONE)
    else:
        email = citizen_contact(citizen=citizen, kind=ContactKind.EMAIL)
        phone = citizen_contact(citizen=citizen, kind=ContactKind.PHONE)
    if citizen.preferred_channel == Channel.SMS and phone:
        return NotifyChannel.SMS, phone
    if email:
        return NotifyChannel.EMAIL, email
    if phone:
        return NotifyChannel.SMS, phone
    return NotifyChannel.INAPP, str(citizen.pk)


def notification_backlog_by_status() -> dict[str, int]:
    """Outbox rows not delivered, by status: queued, sending, failed, dead (for /metrics)."""
    statuses = [
        NotificationStatus.QUEUED,
        NotificationStatus.SENDING,
        NotificationStatus.FAILED,
        NotificationStatus.DEAD,
    ]
    counts = dict.fromkeys((str(s) for s in statuses), 0)
    rows = (
        Notification.objects.filter(status__in=statuses)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    for status, n in rows:
        counts[str(status)] = n
    return counts
