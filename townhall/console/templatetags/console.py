"""Template helpers for the console: due dates as time left, status colours, event lines."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from townhall.cases.lifecycle import OPEN_STATUSES, CaseStatus
from townhall.cases.models import CaseEvent, CaseEventKind
from townhall.console.labels import staff_status_label

register = template.Library()

COLOURS = {
    CaseStatus.NEW: "govuk-tag--light-blue",
    CaseStatus.ACKNOWLEDGED: "govuk-tag--blue",
    CaseStatus.IN_PROGRESS: "govuk-tag--purple",
    CaseStatus.AWAITING_CITIZEN: "govuk-tag--yellow",
    CaseStatus.REOPENED: "govuk-tag--orange",
    CaseStatus.RESOLVED: "govuk-tag--green",
    CaseStatus.CLOSED: "govuk-tag--grey",
    CaseStatus.REJECTED: "govuk-tag--grey",
    CaseStatus.DUPLICATE: "govuk-tag--grey",
}


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, "")


@register.filter
def capped(count: int) -> str:
    """A queue's count, "1,000+" past the cap."""
    from django.utils.formats import number_format

    from townhall.console.queues import COUNT_CAP

    if count > COUNT_CAP:
        return f"{number_format(COUNT_CAP, force_grouping=True)}+"
    return str(count)


@register.filter
def status_colour(status: str) -> str:
    return COLOURS.get(CaseStatus(status), "")


@register.filter
def duration(value: timedelta | None) -> str:
    """'2 days 3 h', '3 h 20 min', '12 min' – short, for staff."""
    if value is None:
        return ""
    minutes = int(abs(value).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        text = ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
        return f"{text} {hours} h" if hours else text
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


@register.simple_tag
def due(case: Any, now: datetime) -> SafeString | str:
    """Time left before the case's due date, or how late it is; paused or finished cases say so."""
    if case.status not in OPEN_STATUSES:
        return "–"
    if case.sla_paused_remaining is not None:
        return format_html('<span class="th-muted">{}</span>', _("paused"))
    if case.due_at is None:
        return "–"
    left = case.due_at - now
    if left.total_seconds() < 0:
        return format_html(
            '<strong class="th-late">{}</strong>', _("late %(by)s") % {"by": duration(left)}
        )
    return _("in %(left)s") % {"left": duration(left)}


def _status(value: object) -> str:
    return staff_status_label(value)


@register.filter
def staff_status(status: str) -> str:
    """A case's status in staff's words ("Waiting for the resident")."""
    return staff_status_label(status)


@register.simple_tag
def event_text(event: CaseEvent) -> str:
    """One line saying what the event did, with its text where it has one."""
    data = event.content
    kind = event.kind
    if kind in {CaseEventKind.NOTE, CaseEventKind.PUBLIC_UPDATE, CaseEventKind.REOPENED}:
        text = str(data.get("text") or data.get("reason") or "")
        label = CaseEventKind(kind).label
        return f"{label}: {text}" if text else str(label)
    if kind == CaseEventKind.STATUS_CHANGED:
        line = _("Status: %(from)s → %(to)s") % {
            "from": _status(data.get("from", "")),
            "to": _status(data.get("to", "")),
        }
        return f"{line}. {data['note']}" if data.get("note") else line
    if kind == CaseEventKind.ASSIGNED:
        who = data.get("to_label") or _("the team's queue")
        how = _(" (automatic)") if data.get("rule") == "auto" else ""
        return _("Assigned to %(who)s") % {"who": who} + how
    if kind == CaseEventKind.PRIORITY_CHANGED:
        return _("Priority: %(from)s → %(to)s") % {
            "from": data.get("from", ""),
            "to": data.get("to", ""),
        }
    if kind == CaseEventKind.DUE_CHANGED:
        moved = parse_datetime(str(data.get("to") or ""))
        return _("Due date moved to %(to)s: %(reason)s") % {
            "to": date_format(localtime(moved), "j M Y, H:i") if moved else "",
            "reason": data.get("reason", ""),
        }
    if kind == CaseEventKind.TRANSFERRED:
        return _("Moved from %(from)s to %(to)s: %(reason)s") % {
            "from": data.get("from_label", ""),
            "to": data.get("to_label", ""),
            "reason": data.get("reason", ""),
        }
    if kind == CaseEventKind.SPLIT:
        if data.get("to"):
            return _("Part of this case was split off as %(other)s") % {"other": data["to"]}
        return _("Split off from %(other)s") % {"other": data.get("from", "")}
    if kind == CaseEventKind.MERGED:
        if data.get("into"):
            return _("Closed as a duplicate of %(other)s") % {"other": data["into"]}
        return _("%(other)s was merged into this case") % {"other": data.get("duplicate", "")}
    return str(CaseEventKind(kind).label)
