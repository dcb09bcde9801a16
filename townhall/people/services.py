"""Writes for people: the one door other apps use. Each concern lives in its module:

- `citizens`: registering citizens, recognising them again, consent, staff accounts and a
  resident's own account and profile;
- `identity`: merge, split and contact points by staff, each with its PersonEvent;
- `proofs`: single-use sign-in links and SMS codes;
- `erasure`: removing a resident and every personal detail held about them;
- `history`: the PersonEvent every write leaves, and the limits on its texts.
"""

from __future__ import annotations

from townhall.people.citizens import (
    citizen_account_for_email,
    citizen_email_prove,
    citizen_profile_update,
    citizen_resolve,
    consent_record,
    report_contacts_record,
    same_person_hint_add,
    staff_roles_ensure,
    staff_user_create,
)
from townhall.people.erasure import (
    citizen_erase,
)
from townhall.people.history import (
    NAME_MAX,
    REASON_MAX,
    Actor,
)
from townhall.people.identity import (
    citizen_merge,
    citizen_split,
    contact_point_add,
    contact_point_move,
    contact_point_verify,
)
from townhall.people.proofs import (
    SIGN_IN_SALT,
    PhoneProofResult,
    phone_proof_check,
    phone_proof_start,
    proofs_purge,
    sign_in_link_issue,
    sign_in_link_redeem,
)

__all__ = [
    "NAME_MAX",
    "REASON_MAX",
    "SIGN_IN_SALT",
    "Actor",
    "PhoneProofResult",
    "citizen_account_for_email",
    "citizen_email_prove",
    "citizen_erase",
    "citizen_merge",
    "citizen_profile_update",
    "citizen_resolve",
    "citizen_split",
    "consent_record",
    "contact_point_add",
    "contact_point_move",
    "contact_point_verify",
    "phone_proof_check",
    "phone_proof_start",
    "proofs_purge",
    "report_contacts_record",
    "same_person_hint_add",
    "sign_in_link_issue",
    "sign_in_link_redeem",
    "staff_roles_ensure",
    "staff_user_create",
]
