"""Retention: each kind of data is kept only as long as its period, then purged.

The periods are one `RetentionPolicy` row that council admins edit in the admin (it is
created from the TOWNHALL_RETENTION setting when first opened there; until then those
defaults apply). A period of 0
keeps that kind forever. `retention_purge` runs daily from the scheduler
(`retention_purge_task`) and from `townhall retention purge [--dry-run]`:

| kind | what goes after its period |
| --- | --- |
| raw_messages | the raw payload of inbound messages (the parsed text stays with the case) |
| attachments | files that came with inbound messages (rows and files) |
| search_logs | knowledge search log rows |
| staged_files | photos kept for report forms never sent (``staging/`` in media) |
| closed_cases | personal data on cases closed longer ago (as erasure, case by case) |
| security_events | security event log rows |
| staff_access_log | django-axes' log of staff sign-ins, as long as security events |
| follow_confirmations | follow confirmations (an e-mail address) once their link expired |

Everything goes in batches, so a first run over years of data neither holds long locks
nor loads everything into memory. A dry run counts what would go and writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.models import AccessLog
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, QuerySet

from townhall.cases.models import Case, FollowRequest
from townhall.cases.services import case_personal_data_clear
from townhall.core import clock
from townhall.core.files import stored_files_delete
from townhall.core.models import SecurityEvent
from townhall.intake.models import InboundAttachment, InboundMessage, RetentionPolicy
from townhall.intake.privacy import _erase_event_personal_data, messages_personal_data_clear
from townhall.knowledge.models import SearchLog
from townhall.notify.services import notifications_redact

log = logging.getLogger(__name__)

BATCH = 500
# Where the portal stages photos of report forms sent back with mistakes
# (townhall.intake.staging uses this name).
STAGED_FOLDER = "staging"
Progress = Callable[[str, int, int], None]


def _quiet(kind: str, done: int, total: int) -> None:
    return None


def retention_policy() -> RetentionPolicy:
    """The council's retention periods: the saved row, else the settings' defaults
    (unsaved: reading the policy, as a dry run does, writes nothing)."""
    saved = RetentionPolicy.objects.filter(pk=1).first()
    return saved or RetentionPolicy(pk=1, **settings.TOWNHALL_RETENTION)


def retention_policy_ensure() -> RetentionPolicy:
    """The saved row, created from the settings' defaults if missing (for the admin)."""
    policy, _created = RetentionPolicy.objects.get_or_create(
        pk=1, defaults=dict(settings.TOWNHALL_RETENTION)
    )
    return policy


@dataclass
class RetentionItem:
    kind: str
    period: str
    cutoff: datetime | None
    due: int
    purged: int = 0


def _delete_in_batches(qs: QuerySet[Any], progress: Progress, kind: str, total: int) -> int:
    done = 0
    while True:
        ids = list(qs.values_list("pk", flat=True)[:BATCH])
        if not ids:
            return done
        with transaction.atomic():
            qs.model._default_manager.filter(pk__in=ids).delete()
        done += len(ids)
        progress(kind, done, total)


def _raw_messages(cutoff: datetime) -> QuerySet[InboundMessage]:
    return InboundMessage.objects.filter(received_at__lt=cutoff).exclude(raw="")


def _attachments(cutoff: datetime) -> QuerySet[InboundAttachment]:
    return InboundAttachment.objects.filter(message__received_at__lt=cutoff)


def _closed_cases(cutoff: datetime) -> QuerySet[Case]:
    personal = (
        Q(reporter__isnull=False)
        | ~Q(description="")
        | ~Q(address="")
        | ~Q(address_id="")
        | ~Q(media_url="")
        | ~Q(answers={})
        | Q(photos__isnull=False)
    )
    return Case.objects.filter(closed_at__lt=cutoff).filter(personal).distinct()


def _staged_files(cutoff: datetime) -> list[str]:
    try:
        _dirs, files = default_storage.listdir(STAGED_FOLDER)
    except (FileNotFoundError, NotADirectoryError):
        return []
    old = []
    for file in files:
        name = f"{STAGED_FOLDER}/{file}"
        try:
            if default_storage.get_modified_time(name) < cutoff:
                old.append(name)
        except OSError:
            continue
    return old


def retention_purge(
    *, dry_run: bool = False, now: datetime | None = None, progress: Progress = _quiet
) -> list[RetentionItem]:
    """Purge (or with `dry_run`, count) what is past its retention period."""
    now = now or clock.now()
    policy = retention_policy()
    items: list[RetentionItem] = []

    def cutoff(amount: int, unit: timedelta) -> datetime | None:
        return None if amount == 0 else now - amount * unit

    day, hour = timedelta(days=1), timedelta(hours=1)

    # Raw inbound payloads: blanked, the message row stays.
    c = cutoff(policy.raw_message_days, day)
    item = RetentionItem("raw_messages", f"{policy.raw_message_days} days", c, 0)
    if c is not None:
        item.due = _raw_messages(c).count()
        if not dry_run:
            while ids := list(_raw_messages(c).values_list("pk", flat=True)[:BATCH]):
                item.purged += InboundMessage.objects.filter(pk__in=ids).update(raw="")
                progress(item.kind, item.purged, item.due)
    items.append(item)

    # Attachments: rows and files.
    c = cutoff(policy.attachment_days, day)
    item = RetentionItem("attachments", f"{policy.attachment_days} days", c, 0)
    if c is not None:
        item.due = _attachments(c).count()
        if not dry_run:
            while batch := list(_attachments(c).values_list("pk", "file")[:BATCH]):
                with transaction.atomic():
                    InboundAttachment.objects.filter(pk__in=[pk for pk, _f in batch]).delete()
                stored_files_delete(
                    [name for _pk, name in batch], what="an expired attachment file"
                )
                item.purged += len(batch)
                progress(item.kind, item.purged, item.due)
    items.append(item)

    def rows(kind: str, period: str, c: datetime | None, of: Callable[[datetime], Any]) -> None:
        """Rows deleted outright once older than `c` (none with a period of 0)."""
        item = RetentionItem(kind, period, c, 0)
        if c is not None:
            qs = of(c)
            item.due = qs.count()
            if not dry_run:
                item.purged = _delete_in_batches(qs, progress, kind, item.due)
        items.append(item)

    # Knowledge search logs.
    rows(
        "search_logs",
        f"{policy.search_log_days} days",
        cutoff(policy.search_log_days, day),
        lambda c: SearchLog.objects.filter(created_at__lt=c),
    )

    # Staged report photos.
    c = cutoff(policy.staged_file_hours, hour)
    item = RetentionItem("staged_files", f"{policy.staged_file_hours} hours", c, 0)
    if c is not None:
        names = _staged_files(c)
        item.due = len(names)
        if not dry_run:
            item.purged += stored_files_delete(names, what="a staged photo")
            progress(item.kind, item.purged, item.due)
    items.append(item)

    # Personal data on cases closed long ago.
    c = cutoff(policy.closed_case_years, timedelta(days=365))
    item = RetentionItem("closed_cases", f"{policy.closed_case_years} years", c, 0)
    if c is not None:
        item.due = _closed_cases(c).count()
        if not dry_run:
            decimals = settings.TOWNHALL_ERASURE_COORD_DECIMALS
            seen: set[int] = set()
            while ids := [
                pk
                for pk in _closed_cases(c).order_by("pk").values_list("pk", flat=True)[:BATCH]
                if pk not in seen
            ]:
                seen.update(ids)
                with transaction.atomic():
                    notifications_redact(
                        case_ids=ids,
                        texts=list(
                            Case.objects.filter(pk__in=ids).values_list("address", flat=True)
                        ),
                    )
                    messages_personal_data_clear(
                        InboundMessage.objects.filter(case_id__in=ids), coord_decimals=decimals
                    )
                    _erase_event_personal_data(ids)
                    done = case_personal_data_clear(
                        case_ids=ids, actor=None, reason="retention", coord_decimals=decimals
                    )
                item.purged += done["cases"]
                progress(item.kind, item.purged, item.due)
    items.append(item)

    # The security event log, and django-axes' log of staff sign-ins (address and browser)
    # as long.
    days = policy.security_event_days
    c = cutoff(days, day)
    rows("security_events", f"{days} days", c, lambda c: SecurityEvent.objects.filter(at__lt=c))
    rows(
        "staff_access_log",
        f"{days} days",
        c,
        lambda c: AccessLog.objects.filter(attempt_time__lt=c),
    )

    # Follow confirmations hold an e-mail address: gone once their link can no longer work.
    hours = settings.TOWNHALL_FOLLOW_CONFIRM_HOURS
    rows(
        "follow_confirmations",
        f"{hours} hours",
        now - hours * hour,
        lambda c: FollowRequest.objects.filter(created_at__lt=c),
    )
    return items
