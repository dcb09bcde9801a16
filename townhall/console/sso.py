"""Optional single sign-on for staff through the council's OpenID Connect provider.

Off unless OIDC_RP_CLIENT_ID is set (docs/operations.md lists the settings). It signs in
existing, active staff accounts; it never creates accounts or gives roles: the council's
administrators still decide who is staff and in which departments.

* The provider must say the e-mail address is verified (``email_verified`` true); a
  missing or false claim is refused.
* The first sign-in of an account binds it to the provider's stable subject (``sub`` of
  the verified ID token, which the user-info answer must repeat). Later sign-ins find the
  account by that subject; an account bound to one subject is never opened by another,
  even one that claims the same e-mail address.
* Whether this sign-in also counts as our second step is TOWNHALL_SSO_SKIPS_SECOND_STEP
  (off by default: staff with an authenticator give its code after the provider).

Every refusal is a STAFF_SIGN_IN_FAILED security event with the reason (no e-mail, no sub).
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from townhall.console.models import SingleSignOnIdentity
from townhall.console.twostep import SSO_SESSION_KEY
from townhall.core.security import SecurityEventKind, security_event

__all__ = ["SSO_SESSION_KEY", "StaffOIDCBackend"]


class StaffOIDCBackend(OIDCAuthenticationBackend):  # type: ignore[misc]
    def verify_claims(self, claims: dict[str, Any]) -> bool:
        """An e-mail address the provider says, explicitly, that it has verified."""
        verified = claims.get("email_verified")
        if isinstance(verified, str):  # some providers send the JSON boolean as a string
            verified = verified.strip().lower() == "true"
        return bool(claims.get("email")) and verified is True

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        email = str(claims.get("email") or "")
        if not email:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email__iexact=email, is_staff=True, is_active=True)

    def create_user(self, claims: dict[str, Any]) -> None:
        return None  # accounts are made by the council's administrators, never by sign-in

    def _refuse(self, reason: str, user: Any = None) -> None:
        security_event(
            SecurityEventKind.STAFF_SIGN_IN_FAILED,
            request=getattr(self, "request", None),
            user=user,
            subject=f"user:{user.pk}" if user is not None else "single sign-on",
            detail={"via": "sso", "reason": reason},
        )

    def get_or_create_user(self, access_token: str, id_token: str, payload: Any) -> Any:
        claims = self.get_userinfo(access_token, id_token, payload)
        subject = str((payload or {}).get("sub") or "")
        if not subject or str(claims.get("sub", subject)) != subject:
            self._refuse("no subject, or the user info names another subject")
            return None
        if not self.verify_claims(claims):
            self._refuse("e-mail address not verified by the provider")
            return None
        bound = SingleSignOnIdentity.objects.filter(subject=subject).select_related("user").first()
        if bound is not None:
            user = bound.user
            if not (user.is_active and user.is_staff):
                self._refuse("account not active staff", user)
                return None
        else:
            users = list(self.filter_users_by_claims(claims)[:2])
            if len(users) != 1:
                self._refuse("no single staff account with that e-mail address")
                return None
            user = users[0]
            try:
                with transaction.atomic():
                    SingleSignOnIdentity.objects.create(user=user, subject=subject)
            except IntegrityError:  # bound to another subject already
                self._refuse("account bound to another subject", user)
                return None
        self.request.session[SSO_SESSION_KEY] = True
        return user
