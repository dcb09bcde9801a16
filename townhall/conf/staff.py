"""Staff sign-in (issue 15): second step, lockouts and session lengths."""

from __future__ import annotations

from typing import NamedTuple

import environ


class StaffSignInSettings(NamedTuple):
    # Who must sign in with a code from an authenticator app (or a backup code) as well as
    # a password: "admins" (council administrators and superusers), "all" staff, or
    # "none". Production defaults to "admins"; development and tests to "none".
    # (typed with bool: a test or an older configuration may still set True or False)
    require_2fa: str | bool  # TOWNHALL_STAFF_REQUIRE_2FA
    # Does a sign-in through the council's single sign-on count as the second step? Off:
    # staff who have an authenticator give its code after single sign-on too.
    sso_skips_second_step: bool  # TOWNHALL_SSO_SKIPS_SECOND_STEP
    # Failed password sign-ins (one account from one address) before that pair is locked
    # out, and for how long. Administrators lift a lock early ("Access attempts").
    attempts: int  # TOWNHALL_STAFF_SIGN_IN_ATTEMPTS
    lockout_minutes: int  # TOWNHALL_STAFF_LOCKOUT_MINUTES
    # A staff session ends after this long without a request, and this long after sign-in.
    session_idle_minutes: int  # TOWNHALL_STAFF_SESSION_IDLE_MINUTES
    session_max_hours: int  # TOWNHALL_STAFF_SESSION_MAX_HOURS


def staff_sign_in_settings(env: environ.Env, *, production: bool) -> StaffSignInSettings:
    """The staff sign-in settings; ValueError for an unknown TOWNHALL_STAFF_REQUIRE_2FA."""
    raw = env.str("TOWNHALL_STAFF_REQUIRE_2FA", default="") or ("admins" if production else "none")
    require_2fa = {"true": "all", "1": "all", "false": "none", "0": "none"}.get(
        raw.lower(), raw.lower()
    )
    if require_2fa not in {"admins", "all", "none"}:
        raise ValueError("TOWNHALL_STAFF_REQUIRE_2FA must be admins, all or none")
    return StaffSignInSettings(
        require_2fa=require_2fa,
        sso_skips_second_step=env.bool("TOWNHALL_SSO_SKIPS_SECOND_STEP", default=False),
        attempts=env.int("TOWNHALL_STAFF_SIGN_IN_ATTEMPTS", default=5),
        lockout_minutes=env.int("TOWNHALL_STAFF_LOCKOUT_MINUTES", default=30),
        session_idle_minutes=env.int("TOWNHALL_STAFF_SESSION_IDLE_MINUTES", default=30),
        session_max_hours=env.int("TOWNHALL_STAFF_SESSION_MAX_HOURS", default=12),
    )
