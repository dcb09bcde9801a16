"""Writes for notifications: outbox rows from case events. The other writes live beside
it and are re-exported here, so `services` stays the one door for writes: sending in
`sending.py`, answers and asked-for messages in `replies.py`, opting out in `opt_outs.py`,
erasure in `privacy.py`.

A notification is written in the transaction of the event that causes it (see
`townhall.cases.dispatch`), and workers send it afterwards: at least once, with the
notification's key as the provider's idempotency key so a receiver can drop repeats.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.cases.tracking import track_path
from townhall.catalog.i18n import localized
from townhall.core import dates
from townhall.notify.links import (
    opt_out_token,
    opt_out_url,
    public_url,
    survey_url,
)
from townhall.notify.models import (
    Notification,
    NotificationKind,
    NotificationStatus,
    NotificationTemplate,
    NotifyChannel,
    OptOut,
)
from townhall.notify.opt_outs import opt_out_by_token, opt_out_record, sms_inbound_keyword
from townhall.notify.outgoing import channel_fit, reply_to_for
from townhall.notify.privacy import notifications_personal_data_clear, notifications_redact
from townhall.notify.rendering import template_render
from townhall.notify.replies import (
    follow_confirmation_queue,
    notification_phone_code,
    notification_reply,
)
from townhall.notify.secret_links import sign_in_link_queue
from townhall.notify.selectors import (
    default_templates,
    notification_reach,
    notification_template_get,
    survey_invites,
    surveys_declined,
)
from townhall.notify.sending import (
    notification_retry,
    notification_send_due,
    notification_status_report,
    retry_delay,
    senders_wake,
)
from townhall.notify.staff_mail import case_watchers_tell, sla_escalation_queue
from townhall.notify.webhooks import webhooks_queue_for_case_event
from townhall.people.models import Citizen

logger = logging.getLogger(__name__)

__all__ = [
    "case_watchers_tell",
    "follow_confirmation_queue",
    "notification_for_case_event",
    "notification_phone_code",
    "notification_reply",
    "notification_reporter_recheck",
    "notification_retry",
    "notification_send_due",
    "notification_status_report",
    "notification_templates_install",
    "notifications_personal_data_clear",
    "notifications_redact",
    "opt_out_by_token",
    "opt_out_record",
    "opt_out_token",
    "quiet_hours_end",
    "retry_delay",
    "sign_in_link_queue",
    "sla_escalation_queue",
    "sms_inbound_keyword",
]

# --- from case events to outbox rows --------------------------------------------------


def _kind_for(event: CaseEvent) -> NotificationKind | None:
    if event.kind == CaseEventKind.ACKNOWLEDGED:
        return NotificationKind.ACKNOWLEDGED
    if event.kind == CaseEventKind.PUBLIC_UPDATE:
        return NotificationKind.PUBLIC_UPDATE
    if event.kind == CaseEventKind.REOPENED:
        return NotificationKind.REOPENED
    if event.kind in {CaseEventKind.RESUMED, CaseEventKind.PRIORITY_CHANGED}:
        return NotificationKind.SLA_DATE_CHANGED
    if event.kind == CaseEventKind.STATUS_CHANGED:
        to = event.data.get("to")
        if to == CaseStatus.AWAITING_CITIZEN:
            return NotificationKind.AWAITING_REPLY
        if to == CaseStatus.RESOLVED:
            return NotificationKind.RESOLVED
        return NotificationKind.STATUS_CHANGED
    return None


def _survey_values(case: Case, citizen: Citizen, channel: str, language: str) -> dict[str, str]:
    tracking = public_url(f"/track/?reference={case.reference}")
    if (
        case.status != CaseStatus.RESOLVED  # only the resolution invites (no query otherwise)
        or citizen.pk != case.reporter_id
        or surveys_declined(citizen_id=citizen.pk)
    ):
        return {"survey_url": tracking, "survey": ""}
    url = survey_url(case_id=case.pk)
    invites = survey_invites().get(channel, {})
    text = invites.get(language) or invites.get("en") or ""
    return {"survey_url": url, "survey": text.replace("{url}", url)}


def case_message_values(
    case: Case, citizen: Citizen, channel: str, language: str, note: str
) -> dict[str, str]:
    """The placeholders of a message about `case` to `citizen` (templates' {{ names }})."""
    with translation.override(language):
        expected = dates.long_date(case.expected_on)
        status = str(CaseStatus(case.status).label)
    return {
        "name": citizen.display_name or "resident",
        "reference": case.reference,
        "service": localized(case.service_type, "name", language),
        "status": status,
        "expected_date": expected,
        "note": note,
        "tracking_url": public_url(f"/track/?reference={case.reference}"),
        # The reporter's satisfaction survey (experience); nothing for a follower or for a
        # reporter who opted out of surveys (then the old link, the tracking page, stays).
        **_survey_values(case, citizen, channel, language),
        "unsubscribe_url": opt_out_url(citizen_id=citizen.pk, channel=channel),
        "council": case.service_type.jurisdiction.name,
        "address": case.address,
    }


def notification_for_case_event(event: CaseEvent) -> Notification | None:
    """Queue the messages a case event owes its reporter and followers; return the
    reporter's (or, without one, the first follower's), or None if none is owed.

    Runs inside the event's transaction (a case-event subscriber). Idempotent: the key
    (event, recipient, channel) is unique, so a second call returns the existing rows.
    The reporter's message links to the case's private page; a follower's to the public
    one (the photos and "not fixed" belong to the reporter).
    """
    kind = _kind_for(event)
    # Internal events stay internal, except a new expected date: the resident must know.
    if kind is None or (not event.public and kind != NotificationKind.SLA_DATE_CHANGED):
        return None
    case = Case.objects.select_related("reporter", "service_type__jurisdiction").get(
        pk=event.case_id
    )
    if webhooks_queue_for_case_event(case=case, event=event, kind=kind):
        senders_wake()
    if kind == NotificationKind.SLA_DATE_CHANGED and event.data.get("due_at") is None:
        return None
    recipients: list[tuple[Citizen, bool]] = []
    if case.reporter is not None:
        recipients.append((case.reporter, True))
    if kind != NotificationKind.SLA_DATE_CHANGED:  # followers hear of changes, not dates
        followers = Citizen.objects.filter(following__case=case).exclude(pk=case.reporter_id or 0)
        recipients.extend((citizen, False) for citizen in followers.order_by("pk").distinct())
    made = [
        _notification_queue(event=event, case=case, kind=kind, citizen=citizen, private=private)
        for citizen, private in recipients
    ]
    if any(n.status == NotificationStatus.QUEUED for n in made):
        senders_wake()
    return made[0] if made else None


def _notification_queue(
    *, event: CaseEvent, case: Case, kind: str, citizen: Citizen, private: bool
) -> Notification:
    channel, address = notification_reach(citizen, case_id=case.pk if private else None)
    language = citizen.preferred_language or settings.LANGUAGE_CODE
    key = f"case-event:{event.pk}:citizen:{citizen.pk}:{channel}"
    template = notification_template_get(kind=kind, channel=channel, language=language)
    content = event.content
    note = str(content.get("note") or content.get("text") or "")
    values = case_message_values(case, citizen, channel, template.language, note)
    if private:
        values["tracking_url"] = public_url(track_path(case))
    now = event.at  # when it happened: the quiet hours and the outbox order follow it
    status = NotificationStatus.QUEUED
    if OptOut.objects.filter(citizen=citizen, channel=channel).exists():
        status = NotificationStatus.SUPPRESSED
    next_attempt = now
    if channel == NotifyChannel.SMS:
        next_attempt = quiet_hours_end(now)
    try:
        with transaction.atomic():
            return Notification.objects.create(
                key=key,
                kind=kind,
                channel=channel,
                language=template.language,
                citizen=citizen,
                case_id=case.pk,
                to=address,
                reply_to=reply_to_for(channel, case),
                subject=template_render(template.subject, values),
                body=channel_fit(channel, template_render(template.body, values)),
                status=status,
                next_attempt_at=next_attempt,
                created_at=now,
            )
    except IntegrityError:
        return Notification.objects.get(key=key)


def notification_reporter_recheck(*, case: Case) -> int:
    """Re-address the reporter's queued case notifications of `case` now that the contacts
    given with its report are recorded (people.report_contacts_record, called by intake
    right after the case opened, in the same transaction); return how many changed.

    The acknowledgement is queued while the case opens, before intake can say which
    contacts came with the report: a row addressed to a contact that may not hear about
    this case is replaced by one to a contact that may.
    """
    if case.reporter_id is None:
        return 0
    # Usually nothing is queued yet (the acknowledgement is a task after commit): one
    # query tells, before the reporter and their contacts are read.
    queued = list(
        Notification.objects.filter(
            case_id=case.pk,
            citizen_id=case.reporter_id,
            status=NotificationStatus.QUEUED,
            key__startswith="case-event:",
        )
    )
    if not queued:
        return 0
    reporter = Citizen.objects.get(pk=case.reporter_id)
    channel, address = notification_reach(reporter, case_id=case.pk)
    changed = 0
    for row in queued:
        if (row.channel, row.to) == (channel, address):
            continue
        event = CaseEvent.objects.filter(pk=int(row.key.split(":")[1])).first()
        kind = row.kind
        row.delete()
        changed += 1
        if event is not None:
            _notification_queue(event=event, case=case, kind=kind, citizen=reporter, private=True)
    return changed


def notification_templates_install() -> int:
    """Copy the packaged default templates the council has not got yet; return how many."""
    existing = set(NotificationTemplate.objects.values_list("kind", "channel", "language"))
    rows = [
        NotificationTemplate(
            kind=kind, channel=channel, language=language, subject=text.subject, body=text.body
        )
        for (kind, channel, language), text in default_templates().items()
        if (kind, channel, language) not in existing
    ]
    NotificationTemplate.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def quiet_hours_end(now: datetime) -> datetime:
    """Return `now`, or the end of the SMS quiet hours if `now` falls inside them."""
    window = settings.TOWNHALL_SMS_QUIET_HOURS
    if not window:
        return now
    start, end = (datetime.strptime(t, "%H:%M").time() for t in window)  # noqa: DTZ007 - times of day
    local = timezone.localtime(now)
    t = local.time()
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return now
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=local.tzinfo)
