"""People services: contacts are normalised so a resident is recognised on every channel."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from townhall.core.errors import ValidationFailed
from townhall.people.contacts import email_normalise, phone_normalise
from townhall.people.models import Citizen, ConsentPurpose, ContactPoint
from townhall.people.roles import StaffRole
from townhall.people.selectors import citizen_duplicates_likely, citizen_has_consent
from townhall.people.services import citizen_resolve, consent_record, staff_user_create


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("617-555-0199", "US", "+16175550199"),
        ("(617) 555 0199", "US", "+16175550199"),
        ("+1 617 555 0199", "GB", "+16175550199"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("+44 20 7946 0018", "US", "+442079460018"),
    ],
)
def test_phones_are_stored_in_e164(raw: str, region: str, e164: str) -> None:
    assert phone_normalise(raw, region=region) == e164


@pytest.mark.parametrize("raw", ["hello", "12", "+1 617 555 01999999"])
def test_a_malformed_phone_is_a_field_error(raw: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        phone_normalise(raw, region="US")
    assert "phone" in info.value.details


def test_email_domain_is_lowercased_and_garbage_refused() -> None:
    assert email_normalise("  Rosa.R@Example.ORG ") == "rosa.r@example.org"
    with pytest.raises(ValidationFailed):
        email_normalise("rosa at example")


@pytest.mark.django_db
def test_a_resident_is_recognised_by_phone_in_any_format_and_told_once() -> None:
    # given someone who e-mailed once
    first = citizen_resolve(name="Rosa", email="rosa@example.org")
    # when they later text from a phone and then write with both
    by_phone = citizen_resolve(phone="617 555 0199", channel="sms")
    both = citizen_resolve(email="ROSA@example.org", phone="+16175550199")
    # then the e-mail and phone both lead to the first citizen; the phone-only one is separate
    assert both.pk == first.pk
    assert by_phone.pk != first.pk
    assert set(ContactPoint.objects.filter(citizen=first).values_list("kind", "value")) == {
        ("email", "rosa@example.org")
    }
    assert Citizen.objects.count() == 2


@pytest.mark.django_db
def test_new_contacts_stay_apart_from_the_recognised_resident_until_proven() -> None:
    # Was "new contacts attach to the recognised resident": insecure (issue 15), a message
    # is no proof that a new contact belongs to the person a known contact leads to.
    first = citizen_resolve(name="Rosa", email="rosa@example.org")
    again = citizen_resolve(email="rosa@example.org", phone="617-555-0123")
    assert again.pk != first.pk
    assert first.contact_points.count() == 1
    assert citizen_duplicates_likely(first) == [again]


@pytest.mark.django_db
def test_the_latest_consent_wins() -> None:
    citizen = citizen_resolve(name="Rosa", email="rosa@example.org")
    assert citizen_has_consent(citizen=citizen, purpose=ConsentPurpose.SURVEYS) is False
    consent_record(
        citizen=citizen,
        purpose=ConsentPurpose.SURVEYS,
        granted=True,
        at=datetime(2026, 1, 1, tzinfo=UTC),
        channel="web",
    )
    assert citizen_has_consent(citizen=citizen, purpose=ConsentPurpose.SURVEYS) is True
    consent_record(
        citizen=citizen,
        purpose=ConsentPurpose.SURVEYS,
        granted=False,
        at=datetime(2026, 2, 1, tzinfo=UTC),
        channel="sms",
    )
    assert citizen_has_consent(citizen=citizen, purpose=ConsentPurpose.SURVEYS) is False


@pytest.mark.django_db
def test_staff_get_their_role_permissions() -> None:
    worker = staff_user_create(username="cw", role=StaffRole.CASEWORKER, password="x-long-password")
    admin = staff_user_create(
        username="boss", role=StaffRole.COUNCIL_ADMIN, password="x-long-password"
    )
    assert worker.is_staff and not worker.is_superuser
    assert worker.has_perm("cases.view_case")
    assert not worker.has_perm("catalog.change_servicetype")
    assert admin.has_perm("catalog.change_servicetype")
    # view cases, events, citizens, services and notices; work, assign, log calls
    assert worker.groups.get().permissions.count() == 8
    assert worker.has_perm("notices.view_notice") and not worker.has_perm("notices.change_notice")
    assert worker.has_perm("cases.assign_case") and not worker.has_perm("cases.supervise_case")


@pytest.mark.django_db
def test_an_overlong_name_is_a_field_error_and_nothing_is_written() -> None:
    with pytest.raises(ValidationFailed) as info:
        citizen_resolve(name="x" * 201, email="long@example.org")
    assert "name" in info.value.details
    assert Citizen.objects.count() == 0
