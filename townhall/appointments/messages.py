"""What residents are told about their appointment, through the notification outbox.

Kinds (strings the outbox stores; templates in notify/data/appointments.json):
`appt_booked`, `appt_moved`, `appt_cancelled`, `appt_reminder`. Each key names the
appointment, the event and the appointment's version, so a repeated cause never queues a
message twice, and a moved appointment gets a new reminder. E-mails carry the calendar
entry (appointments/ical.py), attached when the message is sent (notify/attachments.py).
"""

from __future__ import annotations

import datetime as dt

from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from townhall.appointments.links import manage_url
from townhall.appointments.models import Appointment, MeetingMode
from townhall.notify.models import NotifyChannel
from townhall.notify.queueing import templated_queue
from townhall.notify.selectors import notification_reach

KINDS = {
    "booked": "appt_booked",
    "moved": "appt_moved",
    "cancelled": "appt_cancelled",
    "reminder": "appt_reminder",
}
KEY_PREFIX = "appt:"


def notice_key(appointment: Appointment, event: str) -> str:
    """The outbox key: `appt:<appointment id>:<event>:<version>`."""
    return f"{KEY_PREFIX}{appointment.pk}:{event}:{appointment.version}"


def appointment_id_from_key(key: str) -> int | None:
    """The appointment a notice's key names, or None for other messages."""
    if not key.startswith(KEY_PREFIX):
        return None
    part = key[len(KEY_PREFIX) :].split(":", 1)[0]
    return int(part) if part.isdigit() else None


def appointment_where(appointment: Appointment) -> str:
    """Where the meeting happens, in the active language."""
    slot = appointment.slot
    if slot.mode == MeetingMode.PHONE:
        return str(_("We will phone you"))
    if slot.mode == MeetingMode.VIDEO:
        return str(_("By video call: the link is in your calendar entry"))
    office = slot.office
    return f"{office.name}, {office.address}" if office.address else office.name


def appointment_when(appointment: Appointment, tz: dt.tzinfo | None = None) -> str:
    """The start, written out in the active language and the council's time."""
    from django.utils.timezone import localtime

    start = localtime(appointment.slot.starts_at, tz)
    return f"{date_format(start, 'l j F Y')} {date_format(start, 'H:i')}"


def appointment_notice_queue(appointment: Appointment, *, event: str) -> bool:
    """Queue the message of `event` to the resident; False if we have no way to reach them."""
    citizen = appointment.citizen
    if citizen is None:
        return False
    channel, to = notification_reach(citizen, case_id=appointment.case_id)
    if channel not in (NotifyChannel.EMAIL, NotifyChannel.SMS):
        return False
    case = appointment.case
    with translation.override(appointment.language):
        values = {
            "name": citizen.display_name or str(_("resident")),
            "reference": case.reference,
            "service": appointment.slot.service.service_type.name,
            "when": appointment_when(appointment),
            "where": appointment_where(appointment),
            "manage_url": manage_url(appointment),
            "council": case.service_type.jurisdiction.name,
        }
    templated_queue(
        key=notice_key(appointment, event),
        kind=KINDS[event],
        channel=channel,
        to=to,
        values=values,
        language=appointment.language,
        citizen=citizen,
        case_id=case.pk,
    )
    return True
