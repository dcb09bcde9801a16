"""Privacy requests: a resident's personal data erased (see intake.privacy)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from townhall.cases.models import Case, CaseFollower, CasePhoto
from townhall.cases.services import (
    case_follows_anonymise,
    case_personal_data_clear,
    follow_requests_forget,
    personal_data_erase,
)
from townhall.core.files import stored_files_delete_on_commit
from townhall.core.security import SecurityEventKind, security_event
from townhall.intake.models import InboundAttachment, InboundMessage
from townhall.intake.privacy_access import (
    Actor,
    Progress,
    _quiet,
    citizen_for_privacy,
)
from townhall.intake.privacy_parts import citizen_phones, privacy_parts
from townhall.notify.models import AlertSubscription, Notification, OptOut
from townhall.notify.services import notifications_personal_data_clear, notifications_redact
from townhall.people.models import Citizen, ConsentRecord, ContactKind, ContactPoint
from townhall.people.services import citizen_erase

log = logging.getLogger(__name__)

# --- erasure -----------------------------------------------------------------------------


@dataclass
class ErasureReport:
    citizen_id: int
    dry_run: bool
    counts: dict[str, int]
    case_ids: list[int]
    kept: tuple[str, ...] = (
        "each case's service, department, status, priority, channel and dates",
        "each case's location rounded to about a kilometre",
        "every case event (hash chains unchanged)",
        "anonymous 'me too' counts",
        "notification rows without address or text (kind, channel, status, dates)",
    )


def _messages_of(citizen_id: int, case_ids: Iterable[int]) -> Q:
    # What the resident sent, and anything from an unknown sender on their own cases.
    return Q(citizen_id=citizen_id) | Q(case_id__in=list(case_ids), citizen__isnull=True)


def resident_erasure_plan(citizen_id: int) -> ErasureReport:
    """What erasing the resident would remove or redact; writes nothing."""
    citizen = citizen_for_privacy(citizen_id)
    case_ids = list(
        Case.objects.filter(reporter_id=citizen.pk).order_by("pk").values_list("pk", flat=True)
    )
    messages = InboundMessage.objects.filter(_messages_of(citizen.pk, case_ids))
    counts = {
        "account": 1 if citizen.user_id else 0,
        "contact_points": ContactPoint.objects.filter(citizen_id=citizen.pk).count(),
        "consents": ConsentRecord.objects.filter(citizen_id=citizen.pk).count(),
        "cases_redacted": len(case_ids),
        "photos": CasePhoto.objects.filter(case_id__in=case_ids).count(),
        "follows_anonymised": CaseFollower.objects.filter(citizen_id=citizen.pk).count(),
        "messages_redacted": messages.count(),
        "attachments": InboundAttachment.objects.filter(message__in=messages).count(),
        "notifications_redacted": Notification.objects.filter(citizen_id=citizen.pk).count(),
        "opt_outs": OptOut.objects.filter(citizen_id=citizen.pk).count(),
        "alert_subscriptions": AlertSubscription.objects.filter(citizen_id=citizen.pk).count(),
    }
    phones = citizen_phones(citizen)
    for part in privacy_parts():
        counts.update(part.privacy_count(citizen_id=citizen.pk, phones=phones))
    return ErasureReport(citizen_id=citizen.pk, dry_run=True, counts=counts, case_ids=case_ids)


def _erase_event_personal_data(case_ids: list[int]) -> None:
    """Erase the personal values that case events refer to, without touching the events:
    the hashed payloads hold only commitments to them (cases.ledger), so every chain and
    seal still verifies. The single call site for erasure and the closed-case purge."""
    personal_data_erase(case_ids)


def messages_personal_data_clear(messages: Any, *, coord_decimals: int) -> tuple[int, int]:
    """Blank inbound messages as received (senders, text, raw payload, address; location
    rounded) and delete their attachments (rows now, files after commit).

    Return (messages, attachments). Outcome, channel, dates and the case link stay.
    """
    files = list(InboundAttachment.objects.filter(message__in=messages).values_list("pk", "file"))
    InboundAttachment.objects.filter(pk__in=[pk for pk, _f in files]).delete()
    count = 0
    for message in messages.only("pk", "lat", "long").iterator():
        InboundMessage.objects.filter(pk=message.pk).update(
            external_id="",
            sender_email="",
            sender_phone="",
            sender_handle="",
            sender_name="",
            sender_key="",
            citizen=None,
            subject="",
            text="",
            thread_hint="",
            address="",
            raw="",
            reason="",
            triage={},
            lat=None if message.lat is None else round(message.lat, coord_decimals),
            long=None if message.long is None else round(message.long, coord_decimals),
        )
        count += 1
    stored_files_delete_on_commit([name for _pk, name in files], what="an erased attachment file")
    return count, len(files)


def resident_erase(
    *,
    citizen_id: int,
    actor: Actor = None,
    request: Any = None,
    via: str = "staff",
    dry_run: bool = False,
    progress: Progress = _quiet,
) -> ErasureReport:
    """Erase a resident's personal data; keep their cases for statistics.

    With `dry_run`, only say what would go. Otherwise, in one transaction: their inbound
    messages are blanked and attachments deleted, their cases lose description, answers,
    address, photos and reporter (each case gets an internal "personal data erased" event
    through the normal append path), their follows become anonymous, notifications sent
    to them lose address and text, and the citizen row goes with contact points,
    consents and the account's details. One ERASED PersonEvent and one RESIDENT_ERASED
    security event record it, with counts only. Raise NotFound for an unknown citizen.
    """
    report = resident_erasure_plan(citizen_id)
    if dry_run:
        return report
    decimals = settings.TOWNHALL_ERASURE_COORD_DECIMALS
    steps = 6
    with transaction.atomic():
        citizen = Citizen.objects.select_for_update().get(pk=citizen_id)
        case_ids = list(
            Case.objects.filter(reporter_id=citizen.pk).order_by("pk").values_list("pk", flat=True)
        )
        addresses = Case.objects.filter(pk__in=case_ids).values_list("address", flat=True)
        quoted = [citizen.display_name, *addresses]
        notifications_redact(case_ids=case_ids, texts=quoted)
        messages = InboundMessage.objects.filter(_messages_of(citizen.pk, case_ids))
        messages_personal_data_clear(messages, coord_decimals=decimals)
        progress("messages", 1, steps)
        # First the events' personal values, so the erasure note written next stays legible.
        _erase_event_personal_data(case_ids)
        progress("events", 2, steps)
        case_personal_data_clear(
            case_ids=case_ids, actor=actor, reason="erasure request", coord_decimals=decimals
        )
        progress("cases", 3, steps)
        case_follows_anonymise(citizen_id=citizen.pk)
        follow_requests_forget(
            emails=list(
                citizen.contact_points.filter(kind=ContactKind.EMAIL).values_list(
                    "value", flat=True
                )
            )
        )
        notifications_personal_data_clear(citizen_id=citizen.pk)
        phones = citizen_phones(citizen)
        for part in privacy_parts():
            part.privacy_erase(citizen_id=citizen.pk, phones=phones)
        progress("notifications", 4, steps)
        citizen_erase(citizen=citizen, actor=actor, summary=report.counts)
        progress("person", 5, steps)
        security_event(
            SecurityEventKind.RESIDENT_ERASED,
            request=request,
            user=actor,
            subject=f"citizen:{citizen_id}",
            detail={"via": via, **report.counts},
        )
        progress("recorded", 6, steps)
    report.dry_run = False
    report.case_ids = case_ids
    return report
