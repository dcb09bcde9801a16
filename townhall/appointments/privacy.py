"""Appointments' share of a resident's data (named in settings.TOWNHALL_PRIVACY_PARTS).

Export: every appointment of theirs (when, where, how, status, what was decided).
Erasure: the appointments still to come are cancelled and their seats freed (no message:
there is nobody to send it to any more); every appointment loses its resident and the
caseworker's note of the outcome; times, offices and statuses stay, so the day lists and
no-show rates stay true.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F

from townhall.appointments.models import Appointment, AppointmentStatus, Slot


def privacy_export(*, citizen_id: int, phones: list[str]) -> dict[str, Any]:
    """Return the resident's appointments, for their export."""
    rows = [
        {
            "reference": a.case.reference,
            "service": a.slot.service.service_type.name,
            "starts_at": a.slot.starts_at.isoformat(),
            "ends_at": a.slot.ends_at.isoformat(),
            "mode": a.slot.mode,
            "office": a.slot.office.name,
            "status": a.status,
            "outcome": a.outcome,
            "booked_at": a.created_at.isoformat(),
        }
        for a in Appointment.objects.filter(citizen_id=citizen_id)
        .select_related("case", "slot__office", "slot__service__service_type")
        .order_by("slot__starts_at")
    ]
    return {"appointments.json": rows}


def privacy_count(*, citizen_id: int, phones: list[str]) -> dict[str, int]:
    """Return how many appointments erasure would detach from the resident."""
    return {"appointments_detached": Appointment.objects.filter(citizen_id=citizen_id).count()}


def privacy_erase(*, citizen_id: int, phones: list[str]) -> None:
    """Cancel the resident's booked appointments and detach all of them (inside the
    erasure's transaction)."""
    live = Appointment.objects.select_for_update().filter(
        citizen_id=citizen_id, status=AppointmentStatus.BOOKED
    )
    for slot_id in list(live.values_list("slot_id", flat=True)):
        Slot.objects.filter(pk=slot_id, booked__gt=0).update(booked=F("booked") - 1)
    live.update(status=AppointmentStatus.CANCELLED, version=F("version") + 1)
    Appointment.objects.filter(citizen_id=citizen_id).update(citizen=None, outcome="")
