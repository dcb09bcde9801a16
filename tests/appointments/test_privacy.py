"""A resident's appointments in their data export, and gone from them on erasure."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from townhall.appointments.models import Appointment, AppointmentStatus, Slot
from townhall.appointments.services import appointment_book
from townhall.cases.models import Case
from townhall.core import clock
from townhall.intake.privacy_erase import resident_erase
from townhall.intake.privacy_export import resident_export

pytestmark = pytest.mark.django_db


def test_export_lists_and_erasure_cancels_and_detaches(report: Case, slots: list[Slot]) -> None:
    citizen_id = report.reporter_id
    assert citizen_id is not None
    booked = appointment_book(
        case=report, citizen=report.reporter, slot_id=slots[0].pk, now=clock.now()
    )
    out = io.BytesIO()
    resident_export(citizen_id=citizen_id, out=out)
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        found = next(n for n in names if n.endswith("appointments.json"))
        rows = json.loads(archive.read(found))
    assert rows[0]["reference"] == report.reference and rows[0]["status"] == "booked"
    resident_erase(citizen_id=citizen_id)
    booked.refresh_from_db()
    assert booked.citizen_id is None and booked.status == AppointmentStatus.CANCELLED
    assert Slot.objects.get(pk=slots[0].pk).booked == 0
    assert not Appointment.objects.filter(status="booked").exists()
