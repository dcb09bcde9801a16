"""Links in messages to residents: public addresses and signed opt-out tokens."""

from __future__ import annotations

from django.conf import settings
from django.core import signing

OPT_OUT_SALT = "townhall.notify.opt-out"


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
