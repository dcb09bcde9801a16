"""Links in messages to residents: public addresses and signed opt-out tokens."""

from __future__ import annotations

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
