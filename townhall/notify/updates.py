"""Messages the frustration index sends (issue 18, docs/frustration.md), through the outbox.

- `delay_update_queue`: the honest, proactive update to a case's reporter when their
  request is going badly, on the channel they chose, in their language, suppressed if they
  opted out of that channel, held to the end of the quiet hours by SMS (as case-event
  messages are).
- `supervisor_flag_tell`: an e-mail to the supervisors (and department admins) of the
  case's department that a flag was raised (a frustrated resident or a low survey score).
  Staff mail: no resident opt-out applies (see staff_mail).

Neither carries the resident's words: the reference, the service and what the index saw.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from townhall.cases.models import Case
from townhall.cases.tracking import track_path
from townhall.catalog.models import DepartmentMember
from townhall.notify.links import public_url
from townhall.notify.models import (
    Notification,
    NotificationKind,
    NotificationStatus,
    NotifyChannel,
    OptOut,
)
from townhall.notify.outgoing import channel_fit, reply_to_for
from townhall.notify.queueing import templated_queue
from townhall.notify.rendering import template_render
from townhall.notify.selectors import notification_reach, notification_template_get
from townhall.notify.sending import senders_wake
from townhall.notify.services import case_message_values, quiet_hours_end
from townhall.people.roles import StaffRole


def delay_update_queue(*, case: Case, now: datetime) -> Notification | None:
    """Queue the honest update owed to `case`'s reporter; None without a reporter.

    The key is the case and the day, so a repeated scan the same day queues nothing new
    (how often a case may be told at all is the caller's rule: frustration_update_days).
    A resident who opted out of the channel gets a SUPPRESSED row, never a message.
    """
    citizen = case.reporter
    if citizen is None:
        return None
    channel, address = notification_reach(citizen, case_id=case.pk)
    language = citizen.preferred_language or settings.LANGUAGE_CODE
    template = notification_template_get(
        kind=NotificationKind.DELAY_UPDATE, channel=channel, language=language
    )
    values = case_message_values(case, citizen, channel, template.language, "")
    values["tracking_url"] = public_url(track_path(case))
    key = f"delay-update:{case.pk}:{now:%Y-%m-%d}"
    status = NotificationStatus.QUEUED
    if OptOut.objects.filter(citizen=citizen, channel=channel).exists():
        status = NotificationStatus.SUPPRESSED
    try:
        with transaction.atomic():
            made = Notification.objects.create(
                key=key,
                kind=NotificationKind.DELAY_UPDATE,
                channel=channel,
                language=template.language,
                citizen=citizen,
                case_id=case.pk,
                to=address,
                reply_to=reply_to_for(channel, case),
                subject=template_render(template.subject, values)[:300],
                body=channel_fit(channel, template_render(template.body, values)),
                status=status,
                next_attempt_at=quiet_hours_end(now) if channel == NotifyChannel.SMS else now,
                created_at=now,
            )
    except IntegrityError:
        return Notification.objects.get(key=key)
    if made.status == NotificationStatus.QUEUED:
        senders_wake()
    return made


def department_supervisors(department_id: int) -> list[Any]:
    """Active supervisors and department admins of the department (who handle its flags)."""
    rows = (
        DepartmentMember.objects.filter(
            department_id=department_id,
            user__is_active=True,
            user__groups__name__in=[StaffRole.SUPERVISOR.value, StaffRole.DEPARTMENT_ADMIN.value],
        )
        .select_related("user")
        .order_by("user_id")
    )
    return list({m.user_id: m.user for m in rows}.values())


def supervisor_flag_tell(*, flag_id: int, case: Case, kind_label: str, score: float) -> int:
    """E-mail the case's department supervisors that flag `flag_id` is open; return how
    many were queued. One message per flag and supervisor (the key), so telling twice
    queues nothing new."""
    # The flag's kind and score only: not its reason or a survey comment (the resident's
    # words stay in the console, behind its access rules).
    values = {
        "reference": case.reference,
        "title": kind_label,
        "note": f"{score:.2f}",
        "case_url": public_url(reverse("console:case", args=[case.pk])),
    }
    return staff_mail_queue(
        department_supervisors(case.department_id),
        key=f"supervisor-flag:{flag_id}",
        kind=NotificationKind.SUPERVISOR_FLAG,
        case=case,
        values=values,
    )


def staff_mail_queue(users: Any, *, key: str, kind: str, case: Case, values: dict[str, Any]) -> int:
    """Queue the templated e-mail `kind` about `case` to each active staff user with an
    address, in the site's language; return how many. `key` plus the user's id is the
    outbox key, so queueing twice sends nothing new."""
    told = 0
    for user in users:
        if not user.email or not user.is_active:
            continue
        templated_queue(
            key=f"{key}:{user.pk}",
            kind=kind,
            channel=NotifyChannel.EMAIL,
            to=user.email,
            user=user,
            case_id=case.pk,
            language=settings.LANGUAGE_CODE,
            values=values,
        )
        told += 1
    return told
