"""Optional single sign-on for staff through the council's OpenID Connect provider.

Off unless OIDC_RP_CLIENT_ID is set (docs/operations.md lists the settings). It signs in
existing, active staff accounts matched by their verified e-mail address; it never
creates accounts or gives roles: the council's administrators still decide who is staff
and in which departments. The provider is trusted for the second factor, so a session
signed in this way does not ask for the authenticator code.
"""

from __future__ import annotations

from typing import Any

from mozilla_django_oidc.auth import OIDCAuthenticationBackend

SSO_SESSION_KEY = "townhall_sso"


class StaffOIDCBackend(OIDCAuthenticationBackend):  # type: ignore[misc]
    def verify_claims(self, claims: dict[str, Any]) -> bool:
        """An e-mail address the provider has verified (when it says so)."""
        return bool(claims.get("email")) and claims.get("email_verified", True) is not False

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        email = str(claims.get("email") or "")
        if not email:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email__iexact=email, is_staff=True, is_active=True)

    def create_user(self, claims: dict[str, Any]) -> None:
        return None  # accounts are made by the council's administrators, never by sign-in

    def get_or_create_user(self, access_token: str, id_token: str, payload: Any) -> Any:
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is not None:
            self.request.session[SSO_SESSION_KEY] = True
        return user
