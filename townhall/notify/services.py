"""Writes for notifications: outbox rows from case events, opt-outs; sending lives in
`sending.py` and is re-exported here, so `services` stays the one door for writes.

A notification is written in the transaction of the event that causes it (see
`townhall.cases.dispatch`), and workers send it afterwards: at least once, with the
notification's key as the provider's idempotency key so a receiver can drop repeats.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation

from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.cases.tracking import track_path
from townhall.catalog.i18n import localized
from townhall.core import dates
from townhall.core.errors import NotFound
from townhall.notify.links import (
    OPT_OUT_SALT,
    opt_out_token,
    opt_out_url,
    public_url,
    survey_url,
)
from townhall.notify.models import (
    AlertSubscription,
    DeliveryAttempt,
    Notification,
    NotificationKind,
    NotificationStatus,
    NotificationTemplate,
    NotifyChannel,
    OptOut,
    SubscriptionRequest,
)
from townhall.notify.rendering import sms_fit, template_render
from townhall.notify.reply_address import reply_address_make
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
from townhall.people.models import Citizen, ContactKind, ContactPoint
from townhall.people.selectors import citizen_by_contact
from townhall.waste.models import WasteReminder

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
    "opt_out_by_token",
    "opt_out_record",
    "opt_out_token",
    "quiet_hours_end",
    "retry_delay",
    "sign_in_link_queue",
    "sla_escalation_queue",
    "sms_inbound_keyword",
]

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})


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


def _values(case: Case, citizen: Citizen, channel: str, language: str, note: str) -> dict[str, str]:
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
    values = _values(case, citizen, channel, template.language, note)
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
                reply_to=_reply_to(channel, case),
                subject=template_render(template.subject, values),
                body=_fit(channel, template_render(template.body, values)),
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


def notification_reply(
    *,
    key: str,
    channel: str,
    to: str,
    body: str,
    subject: str = "",
    citizen: Citizen | None = None,
    case_id: int | None = None,
    language: str = "",
) -> Notification:
    """Queue an answer to something a resident sent (an e-mail or a text), through the
    outbox like every other message; `key` makes a repeated answer a no-op."""
    status = NotificationStatus.QUEUED
    if citizen is not None and OptOut.objects.filter(citizen=citizen, channel=channel).exists():
        status = NotificationStatus.SUPPRESSED
    try:
        with transaction.atomic():
            made = Notification.objects.create(
                key=key[:200],
                kind=NotificationKind.REPLY,
                channel=channel,
                language=language or settings.LANGUAGE_CODE,
                citizen=citizen,
                case_id=case_id,
                to=to,
                subject=subject[:300],
                body=_fit(channel, body),
                status=status,
            )
    except IntegrityError:
        return Notification.objects.get(key=key[:200])
    if made.status == NotificationStatus.QUEUED:
        senders_wake()
    return made


def notification_phone_code(
    *, key: str, citizen: Citizen, to: str, code: str, council: str = ""
) -> Notification:
    """Queue the text carrying a one-time code that proves `to` is `citizen`'s phone.

    Through the outbox like every message, in the resident's language (PHONE_CODE
    templates). Sent at once, even in the quiet hours (the resident is waiting for it),
    and even after an opt-out of SMS updates (it is not an update; they asked for it).
    `key` makes a repeat a no-op. The code itself is kept only as a hash by people.
    """
    language = citizen.preferred_language or settings.LANGUAGE_CODE
    template = notification_template_get(
        kind=NotificationKind.PHONE_CODE, channel=NotifyChannel.SMS, language=language
    )
    values = {"code": code, "council": council or "Townhall"}
    try:
        with transaction.atomic():
            made = Notification.objects.create(
                key=key[:200],
                kind=NotificationKind.PHONE_CODE,
                channel=NotifyChannel.SMS,
                language=template.language,
                citizen=citizen,
                to=to,
                subject=template_render(template.subject, values),
                body=_fit(NotifyChannel.SMS, template_render(template.body, values)),
                status=NotificationStatus.QUEUED,
            )
    except IntegrityError:
        return Notification.objects.get(key=key[:200])
    senders_wake()
    return made


def follow_confirmation_queue(
    *, case: Case, email: str, request_id: int, language: str = ""
) -> Notification:
    """Queue the e-mail that asks `email` to confirm it wants to follow `case`: the only
    message an address gets before it is confirmed. Its link, holding a one-time secret,
    is made as it is sent (notify.secret_links: never stored); one message per
    `request_id` (cases.FollowRequest), so a repeated call is a no-op."""
    from townhall.notify.secret_links import LINK_SLOT

    key = f"follow-confirm:{request_id}"
    template = notification_template_get(
        kind=NotificationKind.FOLLOW_CONFIRM,
        channel=NotifyChannel.EMAIL,
        language=language or settings.LANGUAGE_CODE,
    )
    values = {
        "reference": case.reference,
        "service": localized(case.service_type, "name", template.language),
        "confirm_url": LINK_SLOT,
        "council": case.service_type.jurisdiction.name,
    }
    try:
        with transaction.atomic():
            made = Notification.objects.create(
                key=key[:200],
                kind=NotificationKind.FOLLOW_CONFIRM,
                channel=NotifyChannel.EMAIL,
                language=template.language,
                case_id=case.pk,
                to=email,
                subject=template_render(template.subject, values)[:300],
                body=template_render(template.body, values),
            )
    except IntegrityError:
        return Notification.objects.get(key=key[:200])
    senders_wake()
    return made


def _reply_to(channel: str, case: Case) -> str:
    domain: str = settings.TOWNHALL_INBOUND_EMAIL_DOMAIN
    if channel != NotifyChannel.EMAIL or not domain:
        return ""
    return reply_address_make(
        case.reference, domain=domain, secret=settings.TOWNHALL_REPLY_ADDRESS_SECRET
    )


def _fit(channel: str, body: str) -> str:
    # A long note or link must not turn one text into a costly chain of them.
    return sms_fit(body) if channel == NotifyChannel.SMS else body


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


# --- opting out -----------------------------------------------------------------------


def opt_out_record(*, citizen: Citizen, channel: str, via: str) -> OptOut:
    """Stop sending `citizen` messages on `channel` and drop what is still queued there."""
    with transaction.atomic():
        opt_out, _ = OptOut.objects.get_or_create(
            citizen=citizen, channel=channel, defaults={"via": via}
        )
        Notification.objects.filter(
            citizen=citizen, channel=channel, status=NotificationStatus.QUEUED
        ).update(status=NotificationStatus.SUPPRESSED)
    return opt_out


def opt_out_by_token(*, token: str) -> OptOut:
    """Apply a one-click opt-out link; raise NotFound if the link is not one of ours."""
    try:
        data: dict[str, Any] = signing.loads(token, salt=OPT_OUT_SALT)
        citizen = Citizen.objects.get(pk=int(data["c"]))
        channel = NotifyChannel(data["ch"])
    except (signing.BadSignature, KeyError, ValueError, TypeError, Citizen.DoesNotExist) as exc:
        raise NotFound("That link is not valid.") from exc
    return opt_out_record(citizen=citizen, channel=channel, via="link")


def sms_inbound_keyword(*, from_number: str, body: str) -> str | None:
    """Apply STOP/START replies from a phone; return the reply to send, or None if not a keyword."""
    word = body.strip().upper()
    if word not in STOP_WORDS | START_WORDS:
        return None
    citizen = citizen_by_contact(kind=ContactKind.PHONE, value=from_number)
    if word == "YES" and (
        citizen is None
        or not OptOut.objects.filter(citizen=citizen, channel=NotifyChannel.SMS).exists()
    ):
        return None  # not a "texts back on": an answer, for the intake pipeline
    if word in STOP_WORDS:
        if citizen is not None:
            opt_out_record(citizen=citizen, channel=NotifyChannel.SMS, via="stop_reply")
        return "You will get no more texts from us. Reply START to get them again."
    if citizen is not None:
        OptOut.objects.filter(citizen=citizen, channel=NotifyChannel.SMS).delete()
    return "Texts are back on. Reply STOP to stop them."


def notifications_personal_data_clear(*, citizen_id: int) -> int:
    """Blank what was sent to a resident (address, subject, rendered body, provider
    details), also what went to their addresses before they were known (sign-in links,
    confirmations), and drop their opt-outs, alert and bin reminder subscriptions and
    unconfirmed sign-ups; the rows of sent notifications stay, with kind, channel, status
    and dates, for statistics."""
    values = list(
        ContactPoint.objects.filter(citizen_id=citizen_id).values_list("value", flat=True)
    )
    with transaction.atomic():
        mine = Q(citizen_id=citizen_id) | Q(to__in=values, citizen__isnull=True, user__isnull=True)
        ids = list(Notification.objects.filter(mine).values_list("pk", flat=True))
        # Nothing still waiting goes out to an address that is no longer there.
        Notification.objects.filter(
            pk__in=ids, status__in=[NotificationStatus.QUEUED, NotificationStatus.SENDING]
        ).update(status=NotificationStatus.SUPPRESSED)
        Notification.objects.filter(pk__in=ids).update(
            to="", reply_to="", subject="", body="", last_error="", citizen=None
        )
        DeliveryAttempt.objects.filter(notification_id__in=ids).update(detail="")
        OptOut.objects.filter(citizen_id=citizen_id).delete()
        AlertSubscription.objects.filter(citizen_id=citizen_id).delete()
        SubscriptionRequest.objects.filter(email__in=values).delete()
        WasteReminder.objects.filter(Q(email__in=values) | Q(phone__in=values)).delete()
    return len(ids)


def notifications_redact(*, case_ids: list[int], texts: list[str]) -> int:
    """Cut `texts` (an erased case's address, a name) out of what was sent to anyone
    about the cases `case_ids` (followers' updates quote the case's address); the rest of
    each message stays. Return how many notifications changed."""
    texts = sorted({t for t in texts if len(t.strip()) >= 3}, key=len, reverse=True)
    if not case_ids or not texts:
        return 0
    changed = 0
    with transaction.atomic():
        rows = Notification.objects.select_for_update().filter(case_id__in=case_ids)
        for notification in rows.only("pk", "subject", "body"):
            subject, body = notification.subject, notification.body
            for text in texts:
                subject, body = subject.replace(text, "[erased]"), body.replace(text, "[erased]")
            if (subject, body) != (notification.subject, notification.body):
                Notification.objects.filter(pk=notification.pk).update(subject=subject, body=body)
                changed += 1
    return changed
