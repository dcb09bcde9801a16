"""Unguessable links to a case's own tracking page: the case id (and, once the link has
been replaced, the case's current link key) signed with the secret key.

The reference (TH-26-004211) is printed on letters and read out on the phone, so it only
opens the public view; the signed link, given to the reporter in the confirmation and
their messages, also shows the photos and lets them say "not fixed". It is never shown to
anyone else (the nearby list and "me too" work by reference). Staff or the resident can
replace it (`case_link_rotate`): the case gets a new random key and every older link stops
working at once.
"""

from __future__ import annotations

import hmac

from django.core import signing
from django.utils.translation import gettext as _

from townhall.cases.errors import CaseNotFound
from townhall.cases.models import Case

_signer = signing.Signer(salt="townhall.portal.track", sep=".")


def track_token(case: Case) -> str:
    """The secret part of the case's private link. Until the link is first replaced it is
    the id signed alone (links sent before keys existed keep working)."""
    key = case.track_key
    return _signer.sign(f"{case.pk}-{key}" if key else str(case.pk))


def track_path(case: Case) -> str:
    """The private tracking page's path (the portal serves /requests/<token>/)."""
    return f"/requests/{track_token(case)}/"


def token_parts(token: str) -> tuple[int, str]:
    """Return (case id, link key) a token names; raise CaseNotFound if we did not sign it."""
    try:
        value = _signer.unsign(token)
        case_id, _sep, key = value.partition("-")
        return int(case_id), key
    except (signing.BadSignature, ValueError):
        raise CaseNotFound(_("No such request.")) from None


def token_matches(case: Case, key: str) -> bool:
    """True if a token's key is the case's current one (constant time)."""
    return hmac.compare_digest(case.track_key.encode(), key.encode())


def case_id_from_token(token: str) -> int:
    """Return the case id a token names; raise CaseNotFound if it was not signed by us.

    This does not tell whether the link was replaced since: read the case through
    `case_for_token` (cases.selectors) for that."""
    return token_parts(token)[0]
