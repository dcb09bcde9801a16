"""What the console writes of its own: saved views, the sign-in code set-up, and the
courtesy e-mail to colleagues watching a case.

Case changes go through `cases.services` and `intake.services`; the views only call them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from townhall.cases.models import Case
from townhall.console.models import SavedView

if TYPE_CHECKING:
    from townhall.core.users import StaffUser

logger = logging.getLogger(__name__)

BACKUP_CODES = 10
BACKUP_DEVICE_NAME = "backup codes"


# --- saved views ------------------------------------------------------------------------------


def saved_view_save(*, user: StaffUser, name: str, queue: str, query: str) -> SavedView:
    """Save (or replace) `user`'s view called `name`: the queue `queue` with `query`."""
    view, _created = SavedView.objects.update_or_create(
        user_id=user.pk, name=name.strip(), defaults={"queue": queue, "query": query[:500]}
    )
    return view


def saved_view_delete(*, user: StaffUser, view_id: int) -> bool:
    """Delete `user`'s saved view `view_id`; False if they have none of that id."""
    deleted, _rows = SavedView.objects.filter(pk=view_id, user_id=user.pk).delete()
    return bool(deleted)


# --- the sign-in code -------------------------------------------------------------------------


def backup_codes_new(user: StaffUser) -> list[str]:
    """Replace `user`'s backup codes with ten new ones; the codes are returned once."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def authenticator_pending(user: StaffUser) -> TOTPDevice:
    """The authenticator `user` is setting up (made on first ask, kept until confirmed)."""
    pending, _created = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": _("Authenticator app")}
    )
    return pending


def authenticator_confirm(*, device: TOTPDevice) -> None:
    device.confirmed = True
    device.save(update_fields=["confirmed"])


def authenticator_remove(*, user: StaffUser) -> None:
    """Turn `user`'s sign-in code off: the authenticator and the backup codes go."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()


# --- colleagues watching a case ---------------------------------------------------------------


def watchers_tell(
    case: Case, actor: StaffUser, what: str, *, mentioned: set[int] | None = None
) -> None:
    """E-mail everyone watching `case` (but the one who acted) what just happened."""
    # Through the outbox (notify.staff_mail): retried, with delivery status, in the
    # language the console is in.
    from django.utils.translation import get_language

    from townhall.notify.services import case_watchers_tell

    case_watchers_tell(
        case=case, actor=actor, what=what, mentioned=mentioned, language=get_language()
    )
