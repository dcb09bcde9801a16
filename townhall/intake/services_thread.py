"""Intake: a message that continues a case (a reply, a reference, a signed reply address)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext as _

from townhall.cases.errors import CaseNotFound
from townhall.cases.lifecycle import FINISHED_STATUSES, OPEN_STATUSES, CaseStatus
from townhall.cases.models import Case
from townhall.cases.photos import CleanPhoto
from townhall.cases.selectors import case_get_by_reference
from townhall.cases.services import (
    case_note_add,
    case_photos_add,
    case_transition,
)
from townhall.core.errors import ValidationFailed
from townhall.intake.messages import Message
from townhall.intake.models import (
    InboundMessage,
    Outcome,
)
from townhall.intake.services_result import TEXT_MAX, IntakeResult, _finish
from townhall.notify.services import notification_reporter_recheck
from townhall.people.contacts import email_normalise, phone_normalise
from townhall.people.models import Channel, Citizen, ContactKind
from townhall.people.selectors import contact_trusted_for_case
from townhall.people.services import report_contacts_record

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
