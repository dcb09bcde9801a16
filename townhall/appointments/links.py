"""The signed link in every appointment message: it opens that one appointment.

The token carries the appointment's random public id and its version, signed with the
secret key; no name, address, case or row id. A move or a cancellation raises the version,
so every link sent before the change stops working; a link also stops working
`LINK_DAYS` after it was made. See docs/appointments.md ("Links").
"""

from __future__ import annotations

import uuid

from django.core import signing

from townhall.appointments.models import Appointment
from townhall.notify.links import public_url

LINK_SALT = "townhall.appointments.manage"
LINK_DAYS = 60


def manage_token(appointment: Appointment) -> str:
    """The signed token of the appointment's link (its current version only)."""
    return signing.dumps(
        {"a": appointment.public_id.hex, "v": appointment.version}, salt=LINK_SALT, compress=True
    )


def manage_token_read(token: str) -> tuple[uuid.UUID, int] | None:
    """(public id, version) a token names, or None if we did not sign it or it expired."""
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=LINK_DAYS * 86400)
        return uuid.UUID(hex=str(data["a"])), int(data["v"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def manage_url(appointment: Appointment) -> str:
    """The public address of the appointment's link (the portal serves it)."""
    return public_url(f"/appointments/link/{manage_token(appointment)}/")
