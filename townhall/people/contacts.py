"""Normalise contact values so that the same person is recognised on every channel."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from townhall.core.errors import ValidationFailed


def phone_normalise(raw: str, *, region: str) -> str:
    """Return `raw` as an E.164 phone number; raise ValidationFailed if it is not one."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(
            "That is not a phone number.", details={"phone": [str(exc.args[0])]}
        ) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise ValidationFailed(
            "That phone number has the wrong number of digits.",
            details={"phone": ["Check the number and the country code."]},
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def email_normalise(raw: str) -> str:
    """Return `raw` trimmed with its domain lower-cased; raise ValidationFailed if malformed."""
    value = raw.strip()
    try:
        validate_email(value)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            "That is not an e-mail address.", details={"email": ["Use the form name@example.org."]}
        ) from exc
    local, _, domain = value.rpartition("@")
    # Mailbox names are case-sensitive in theory but never in practice; matching people
    # across channels matters more than that corner of RFC 5321.
    return f"{local.lower()}@{domain.lower()}"
