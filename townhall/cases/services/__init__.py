"""Writes for cases. Every change is one transaction that also appends its CaseEvent.

This package is the public face of the cases services: import from here
(`from townhall.cases.services import case_open`). Each module holds one concern:

- `chain`: the event chain, and `case_change` / `CaseChange`, the one lock–change–append
  step every write below goes through; `ledger_seal`.
- `opening`: `case_open`, `case_import`.
- `acknowledging`: `case_acknowledge`, automatic assignment, `case_acknowledge_pending`.
- `status`: `case_transition`, the resident's "not fixed" reopening.
- `routing`: assignee, department, service, watchers.
- `deadlines`: the SLA a case is held to (`case_sla`), priority and due-date changes.
- `breaches`: the SLA breach scan and its escalation.
- `notes`: notes and public updates, photos, time spent.
- `merging`: duplicates merged, cases split.
- `following`: residents following a case, e-mail confirmations.
- `publication`: the private tracking link, the approved public summary.
- `erasure`: personal data removed for privacy requests and retention.

Follow-up work is enqueued to run after commit, so a rolled-back change triggers nothing.
"""

from townhall.cases.services.acknowledging import case_acknowledge, case_acknowledge_pending
from townhall.cases.services.breaches import SCAN_BATCH, case_sla_scan
from townhall.cases.services.chain import Actor, CaseChange, case_change, ledger_seal
from townhall.cases.services.deadlines import case_due_change, case_priority_change, case_sla
from townhall.cases.services.erasure import (
    ERASURE_NOTE,
    case_follows_anonymise,
    case_personal_data_clear,
    follow_requests_forget,
    personal_data_erase,
)
from townhall.cases.services.following import (
    case_follow,
    follow_request_confirm,
    follow_request_create,
    follow_request_get,
    follow_request_token_renew,
    follow_requests_recent,
)
from townhall.cases.services.merging import case_merge, case_split
from townhall.cases.services.notes import case_note_add, case_photos_add, case_time_log
from townhall.cases.services.opening import DESCRIPTION_MAX, case_import, case_open
from townhall.cases.services.publication import case_link_rotate, case_public_summary_set
from townhall.cases.services.routing import (
    case_assign,
    case_service_change,
    case_transfer,
    case_watch,
)
from townhall.cases.services.status import (
    case_reopen_by_resident,
    case_reopen_window_open,
    case_transition,
)

__all__ = [
    "DESCRIPTION_MAX",
    "ERASURE_NOTE",
    "SCAN_BATCH",
    "Actor",
    "CaseChange",
    "case_acknowledge",
    "case_acknowledge_pending",
    "case_assign",
    "case_change",
    "case_due_change",
    "case_follow",
    "case_follows_anonymise",
    "case_import",
    "case_link_rotate",
    "case_merge",
    "case_note_add",
    "case_open",
    "case_personal_data_clear",
    "case_photos_add",
    "case_priority_change",
    "case_public_summary_set",
    "case_reopen_by_resident",
    "case_reopen_window_open",
    "case_service_change",
    "case_sla",
    "case_sla_scan",
    "case_split",
    "case_time_log",
    "case_transfer",
    "case_transition",
    "case_watch",
    "follow_request_confirm",
    "follow_request_create",
    "follow_request_get",
    "follow_request_token_renew",
    "follow_requests_forget",
    "follow_requests_recent",
    "ledger_seal",
    "personal_data_erase",
]
