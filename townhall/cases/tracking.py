"""Unguessable links to a case's own tracking page: the case id signed with the secret key.

The reference (TH-26-004211) is printed on letters and read out on the phone, so it only
opens the public view; the signed link, given to the reporter in the confirmation and
their messages, also shows the photos and lets them say "not fixed".
"""

from __future__ import annotations

from django.core import signing

from townhall.cases.errors import CaseNotFound
from townhall.cases.models import Case

_signer = signing.Signer(salt="townhall.portal.track", sep=".")


def track_token(case: Case) -> str:
    return _signer.sign(str(case.pk))


def track_path(case: Case) -> str:
    """The private tracking page's path (the portal serves /requests/<token>/)."""
    return f"/requests/{track_token(case)}/"


def case_id_from_token(token: str) -> int:
    """Return the case id a token names; raise CaseNotFound if it was not signed by us."""
    try:
        return int(_signer.unsign(token))
    except (signing.BadSignature, ValueError):
        raise CaseNotFound("No such request.") from None
