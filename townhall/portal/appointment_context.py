"""What a request's private page says about appointments (issue 21), for its owner."""

from __future__ import annotations

from typing import Any

from townhall.appointments.selectors import live_appointment_for_case, meeting_for_case


def appointment_context(case: Any) -> dict[str, Any]:
    """`appointment_meeting` when the request's service needs a meeting, and
    `appointment_live` when one is booked."""
    meeting = meeting_for_case(case)
    if meeting is None:
        return {}
    return {"appointment_meeting": meeting, "appointment_live": live_appointment_for_case(case)}
