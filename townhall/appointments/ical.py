"""The calendar entry (RFC 5545) attached to appointment e-mails.

One event per appointment, its UID the appointment's random public id, so a move
(SEQUENCE raised, METHOD:REQUEST) updates the entry in the resident's calendar and a
cancellation (METHOD:CANCEL, STATUS:CANCELLED) removes it. No personal data beyond what the
e-mail itself says: the service, the time and the place.
"""

from __future__ import annotations

import datetime as dt

from django.utils import translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from townhall.appointments.messages import appointment_id_from_key, appointment_where
from townhall.appointments.models import Appointment, AppointmentStatus, MeetingMode
from townhall.core import clock

ICS_TYPE = "text/calendar"


def appointment_ical(appointment: Appointment, *, stamp: dt.datetime) -> bytes:
    """The iCalendar text of the appointment as it stands now."""
    slot = appointment.slot
    cancelled = appointment.status == AppointmentStatus.CANCELLED
    cal = Calendar()
    cal.add("prodid", "-//Townhall//Appointments//EN")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", f"{appointment.public_id}@townhall")
    event.add("sequence", appointment.version)
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("dtstart", slot.starts_at.astimezone(dt.UTC))
    event.add("dtend", slot.ends_at.astimezone(dt.UTC))
    with translation.override(appointment.language):
        event.add(
            "summary",
            _("Appointment: %(service)s (%(reference)s)")
            % {"service": slot.service.service_type.name, "reference": appointment.case.reference},
        )
        event.add("location", appointment_where(appointment))
    if slot.mode == MeetingMode.VIDEO and slot.template and slot.template.video_url:
        event.add("url", slot.template.video_url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    cal.add_component(event)
    return bytes(cal.to_ical())


def notification_ical(notification: object) -> list[tuple[str, bytes, str]]:
    """The attachments of an appointment notice (notify's TOWNHALL_NOTIFY_ATTACHMENTS hook):
    the calendar entry of the appointment its key names, as it stands when sent."""
    appointment_id = appointment_id_from_key(str(getattr(notification, "key", "")))
    if appointment_id is None:
        return []
    appointment = (
        Appointment.objects.select_related(
            "slot__office", "slot__template", "slot__service__service_type", "case"
        )
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None:
        return []
    return [("appointment.ics", appointment_ical(appointment, stamp=clock.now()), ICS_TYPE)]
