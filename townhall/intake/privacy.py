"""Privacy requests: everything about a resident as one ZIP, or erased.

This is the one service both requests go through, whichever face asks (the admin's
actions on citizens, the console's buttons on a case's resident, the resident's own
"your requests" page, `townhall people export|erase`). It lives in intake because intake
is the highest domain layer, above cases, notify and people, whose own services do the
writes in their tables:

- people.services.citizen_erase: the citizen row, contact points, consents, history, account
- cases.services.case_personal_data_clear: the resident's cases keep service, department,
  dates, status and a rounded location; description, answers, address, photos go
- notify.services.notifications_personal_data_clear: what was sent and where
- here: the inbound messages as received and their attachments

Case events are never updated or deleted: the hash chains keep verifying. Personal data
inside event payloads is erased through the ledger (see `_erase_event_personal_data`).

The work is split by concern: privacy_access (who may ask), privacy_export (the ZIP) and
privacy_erase (erasure); their public names are importable from here.
"""

from __future__ import annotations

from townhall.intake.privacy_access import (
    EXPORT_FORMAT,
    citizen_for_privacy,
    privacy_may_erase,
    privacy_may_export,
)
from townhall.intake.privacy_erase import (
    ErasureReport,
    _erase_event_personal_data,
    messages_personal_data_clear,
    resident_erase,
    resident_erasure_plan,
)
from townhall.intake.privacy_export import ExportResult, resident_export, resident_export_file

__all__ = [
    "EXPORT_FORMAT",
    "ErasureReport",
    "ExportResult",
    "_erase_event_personal_data",
    "citizen_for_privacy",
    "messages_personal_data_clear",
    "privacy_may_erase",
    "privacy_may_export",
    "resident_erase",
    "resident_erasure_plan",
    "resident_export",
    "resident_export_file",
]
