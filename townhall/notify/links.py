"""Links in messages to residents: public addresses and signed opt-out tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings
from django.core import signing

OPT_OUT_SALT = "townhall.notify.opt-out"
STOP_SALT = "townhall.notify.subscription-stop"


def public_url(path: str) -> str:
    """Return the public address of `path` on this site."""
    return f"{settings.TOWNHALL_PUBLIC_URL.rstrip('/')}{path}"


def opt_out_token(*, citizen_id: int, channel: str) -> str:
    """Return the signed token of a one-click opt-out link."""
    return signing.dumps({"c": citizen_id, "ch": channel}, salt=OPT_OUT_SALT, compress=True)


def opt_out_url(*, citizen_id: int, channel: str) -> str:
    """Return the one-click opt-out link for a resident and channel."""
    return public_url(
        f"/notifications/stop/{opt_out_token(citizen_id=citizen_id, channel=channel)}/"
    )


def subscription_stop_token(*, what: str, pk: int) -> str:
    """The signed token of a link that stops one subscription (`what`: bins or alerts;
    no address in it)."""
    return signing.dumps({"w": what, "id": pk}, salt=STOP_SALT, compress=True)


def subscription_stop_url(*, what: str, pk: int) -> str:
    """The one-click link, in every reminder and alert, that stops that one subscription."""
    return public_url(f"/subscriptions/stop/{subscription_stop_token(what=what, pk=pk)}/")


SURVEY_KEY_SALT = b"townhall.experience.survey"


def survey_token(*, case_id: int) -> str:
    """The bearer token of a case's satisfaction-survey link: an HMAC of the case id.

    Deterministic, so the resolution message can carry the link in the same transaction
    that records the resolution; `experience` stores only its SHA-256. Says nothing about
    the case or the resident to whoever sees it.
    """
    key = hashlib.sha256(SURVEY_KEY_SALT + settings.SECRET_KEY.encode()).digest()
    mac = hmac.new(key, f"survey:{case_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(mac[:20]).decode().rstrip("=").lower()


def survey_url(*, case_id: int) -> str:
    """The satisfaction-survey page of a resolved case (experience's survey face)."""
    return public_url(f"/survey/{survey_token(case_id=case_id)}/")
