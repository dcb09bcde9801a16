"""Proof that a contact is a person's: single-use sign-in links and SMS codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.db import transaction

from townhall.core import clock
from townhall.people.citizens import same_person_hint_add
from townhall.people.contacts import phone_normalise
from townhall.people.history import (
    person_event_add,
    point_data,
)
from townhall.people.identity import contact_point_move, contact_point_verify
from townhall.people.models import (
    Citizen,
    ContactKind,
    ContactPoint,
    PersonEventKind,
    PhoneProof,
    SignInLink,
)

SIGN_IN_SALT = "townhall.portal.sign-in"


def _digest(secret: str) -> str:
    """A keyed hash of a token or code: what the database keeps instead of it."""
    return hmac.new(settings.SECRET_KEY.encode(), secret.encode(), hashlib.sha256).hexdigest()


def sign_in_link_issue(*, email: str, minutes: int) -> str:
    """Make a sign-in token for `email`, valid `minutes`, usable once; return the token.

    The token is the address signed with the secret key (so the database holds no
    address) and a random nonce; only its hash is stored, with its expiry.
    """
    token = signing.TimestampSigner(salt=SIGN_IN_SALT).sign_object(
        {"e": email.strip(), "n": secrets.token_urlsafe(16)}
    )
    now = clock.now()
    SignInLink.objects.create(
        token_hash=_digest(token), created_at=now, expires_at=now + timedelta(minutes=minutes)
    )
    return token


def sign_in_link_redeem(*, token: str) -> str | None:
    """Return the e-mail a fresh, unused sign-in token proves, marking it used; else None.

    Single use in every process: the row is marked used by one conditional UPDATE, so of
    two requests racing with the same token exactly one wins.
    """
    try:
        payload = signing.TimestampSigner(salt=SIGN_IN_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("e"), str):
        return None
    now = clock.now()
    won = SignInLink.objects.filter(
        token_hash=_digest(token), used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    return str(payload["e"]) if won == 1 else None


def proofs_purge(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete sign-in links and phone codes that expired more than `older_than` ago (they
    can prove nothing any more); return how many rows went."""
    cutoff = clock.now() - older_than
    links, _rows = SignInLink.objects.filter(expires_at__lt=cutoff).delete()
    codes, _rows = PhoneProof.objects.filter(expires_at__lt=cutoff).delete()
    return links + codes


class PhoneProofResult(StrEnum):
    PROVEN = "proven"
    WRONG = "wrong"  # a wrong code, attempts remain
    EXPIRED = "expired"  # no live code: too old, too many attempts, or none asked for


def phone_proof_start(*, citizen: Citizen, phone: str) -> tuple[PhoneProof, str]:
    """Start proving that `citizen` holds `phone`: return the proof row and the code to text.

    The code (six digits) is returned once, to be sent through the notify outbox; only
    its keyed hash is kept. An earlier unused code for the same citizen stops working.
    Raise ValidationFailed if `phone` is not a phone number.
    """
    value = phone_normalise(phone, region=settings.TOWNHALL_PHONE_REGION)
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = clock.now()
    with transaction.atomic():
        PhoneProof.objects.filter(citizen=citizen, used_at__isnull=True).update(used_at=now)
        proof = PhoneProof.objects.create(
            citizen=citizen,
            value=value,
            code_hash=_digest(f"{citizen.pk}:{value}:{code}"),
            created_at=now,
            expires_at=now + timedelta(minutes=settings.TOWNHALL_PHONE_CODE_MINUTES),
        )
    return proof, code


def phone_proof_check(
    *, citizen: Citizen, code: str
) -> tuple[PhoneProofResult, ContactPoint | None]:
    """Check a code `citizen` typed against their latest live phone proof.

    A right code makes the phone theirs and verified: a point they already have is
    verified; a number nobody has is added; a number held by another person moves to
    them (they hold it now; the other person keeps their cases) and staff are told the
    two may be one person. Each wrong code counts; after TOWNHALL_PHONE_CODE_ATTEMPTS
    the code stops working.
    """
    now = clock.now()
    with transaction.atomic():
        proof = (
            PhoneProof.objects.select_for_update()
            .filter(citizen=citizen, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at", "-id")
            .first()
        )
        if proof is None or proof.attempts >= settings.TOWNHALL_PHONE_CODE_ATTEMPTS:
            return PhoneProofResult.EXPIRED, None
        expected = _digest(f"{citizen.pk}:{proof.value}:{code.strip()}")
        if not hmac.compare_digest(expected, proof.code_hash):
            proof.attempts += 1
            proof.save(update_fields=["attempts"])
            if proof.attempts >= settings.TOWNHALL_PHONE_CODE_ATTEMPTS:
                return PhoneProofResult.EXPIRED, None
            return PhoneProofResult.WRONG, None
        proof.used_at = now
        proof.save(update_fields=["used_at"])
        point = _phone_point_claim(citizen=citizen, value=proof.value)
    return PhoneProofResult.PROVEN, point


def _phone_point_claim(*, citizen: Citizen, value: str) -> ContactPoint:
    label = "SMS code"
    point = ContactPoint.objects.filter(kind=ContactKind.PHONE, value=value).first()
    if point is None:
        point = ContactPoint.objects.create(
            citizen=citizen, kind=ContactKind.PHONE, value=value, verified=False
        )
        person_event_add(
            citizen=citizen,
            kind=PersonEventKind.CONTACT_ADDED,
            actor=None,
            actor_label=label,
            data=point_data(point),
        )
    elif point.citizen_id != citizen.pk:
        before = Citizen.objects.get(pk=point.citizen_id)
        point = contact_point_move(point=point, into=citizen, actor=None, reason=label)
        same_person_hint_add(citizen=citizen, other=before, reason="phone proven by SMS code")
    return contact_point_verify(point=point, actor=None, reason=label)
