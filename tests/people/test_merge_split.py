"""Tell us once: staff merge two records of one person and split one that mixes two."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from townhall.cases.models import Case, CaseFollower
from townhall.cases.services import case_follow, case_open
from townhall.core.errors import ValidationFailed
from townhall.notify.models import OptOut
from townhall.people.models import (
    Citizen,
    ConsentPurpose,
    ConsentRecord,
    ContactPoint,
    PersonEvent,
    PersonEventKind,
)
from townhall.people.roles import StaffRole
from townhall.people.selectors import (
    citizen_duplicates_likely,
    citizen_history,
    citizen_related_counts,
)
from townhall.people.services import (
    citizen_account_for_email,
    citizen_merge,
    citizen_resolve,
    citizen_split,
    consent_record,
    contact_point_add,
    contact_point_move,
    contact_point_verify,
    staff_user_create,
)

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-password-1"


def _open(service: Any, reporter: Citizen | None = None) -> Case:
    return case_open(
        service_type=service,
        channel="web",
        answers={"size": "small"},
        description="Hole",
        reporter=reporter,
    )


@pytest.fixture
def boss(db: None) -> Any:
    return staff_user_create(username="boss", role=StaffRole.COUNCIL_ADMIN, password=PASSWORD)


@pytest.fixture
def rosa_twice(db: None) -> tuple[Citizen, Citizen]:
    """One resident known twice: by e-mail at home and by a work e-mail and phone."""
    home = citizen_resolve(name="Rosa Reporter", email="rosa@example.org")
    work = citizen_resolve(name="", email="r.reporter@work.example", phone="617-555-0199")
    ContactPoint.objects.filter(value="r.reporter@work.example").update(verified=True)
    return home, work


def test_a_merge_moves_everything_and_drops_what_would_be_there_twice(
    rosa_twice: tuple[Citizen, Citizen], pothole: Any, boss: Any
) -> None:
    home, work = rosa_twice
    # given the work record reported one case and follows another the home record follows
    reported = _open(pothole, reporter=work)
    shared = _open(pothole)
    case_follow(case=shared, citizen=work)
    case_follow(case=shared, citizen=home)
    consent_record(
        citizen=work,
        purpose=ConsentPurpose.SURVEYS,
        granted=True,
        at=datetime(2026, 1, 1, tzinfo=UTC),
        channel="web",
    )
    OptOut.objects.create(citizen=work, channel="sms", via="staff")
    OptOut.objects.create(citizen=home, channel="sms", via="staff")
    OptOut.objects.create(citizen=work, channel="email", via="link")
    work_id = work.pk

    # when staff merge the work record into the home one
    survivor = citizen_merge(source=work, into=home, actor=boss, reason="Same person")

    # then the work record is gone and the home record has all of it, once
    assert survivor.pk == home.pk
    assert not Citizen.objects.filter(pk=work_id).exists()
    assert set(ContactPoint.objects.filter(citizen=home).values_list("value", "verified")) == {
        ("rosa@example.org", False),
        ("r.reporter@work.example", True),
        ("+16175550199", False),
    }
    assert ConsentRecord.objects.filter(citizen=home).count() == 1
    assert Case.objects.get(pk=reported.pk).reporter_id == home.pk
    assert list(CaseFollower.objects.filter(case=shared).values_list("citizen_id", flat=True)) == [
        home.pk
    ]
    assert set(OptOut.objects.filter(citizen=home).values_list("channel", flat=True)) == {
        "sms",
        "email",
    }
    assert OptOut.objects.count() == 2
    # the survivor's name is kept; the merge is recorded with what moved
    survivor.refresh_from_db()
    assert survivor.display_name == "Rosa Reporter"
    event = PersonEvent.objects.get(kind=PersonEventKind.MERGED)
    assert (event.citizen_id, event.subject_id, event.actor_id) == (home.pk, home.pk, boss.pk)
    assert (event.actor_label, event.reason) == ("boss", "Same person")
    assert event.data["source_id"] == work_id
    assert event.data["into_id"] == home.pk
    assert event.data["moved"] == {
        "cases.case.reporter": 1,
        "notify.optout.citizen": 1,
        "people.consentrecord.citizen": 1,
        "people.contactpoint.citizen": 2,
    }
    assert event.data["dropped"] == {"cases.casefollower.citizen": 1, "notify.optout.citizen": 1}
    assert {p["value"] for p in event.data["contact_points"]} == {
        "r.reporter@work.example",
        "+16175550199",
    }
    assert citizen_history(home) == [event]


def test_after_a_merge_either_address_finds_the_survivor(
    rosa_twice: tuple[Citizen, Citizen],
) -> None:
    home, work = rosa_twice
    citizen_merge(source=home, into=work, actor=None)
    assert citizen_resolve(email="ROSA@example.org").pk == work.pk
    assert citizen_resolve(email="r.reporter@work.example").pk == work.pk
    assert citizen_resolve(phone="(617) 555 0199").pk == work.pk
    # an unnamed survivor takes the merged-away record's name
    work.refresh_from_db()
    assert work.display_name == "Rosa Reporter"
    assert Citizen.objects.count() == 1


def test_a_person_cannot_be_merged_into_themselves(rosa_twice: tuple[Citizen, Citizen]) -> None:
    home, _ = rosa_twice
    with pytest.raises(ValidationFailed):
        citizen_merge(source=home, into=home, actor=None)
    assert Citizen.objects.filter(pk=home.pk).exists()
    assert not PersonEvent.objects.exists()


def test_an_account_moves_or_the_merged_away_one_is_deactivated(db: None) -> None:
    # only the merged-away person has an account: it moves to the survivor
    signed_in = citizen_account_for_email(email="ana@example.org")
    walk_in = citizen_resolve(name="Ana", phone="617-555-0100")
    account = signed_in.user
    citizen_merge(source=signed_in, into=walk_in, actor=None)
    walk_in.refresh_from_db()
    assert walk_in.user == account
    # both have one: the survivor keeps its own, the other is deactivated
    other = citizen_account_for_email(email="ana.other@example.org")
    other_account = other.user
    assert other_account is not None
    citizen_merge(source=other, into=walk_in, actor=None)
    walk_in.refresh_from_db()
    other_account.refresh_from_db()
    assert walk_in.user == account
    assert other_account.is_active is False
    event = citizen_history(walk_in)[0]
    assert event.data["account"] == {
        "kept": account.pk,
        "source_account": other_account.pk,
        "deactivated": True,
    }
    # the earlier merge and the sign-in verifications are in the survivor's history too
    kinds = [e.kind for e in citizen_history(walk_in)]
    assert kinds.count(PersonEventKind.MERGED) == 2
    assert kinds.count(PersonEventKind.CONTACT_VERIFIED) == 2
    # a member of staff who is also a resident is unlinked, never locked out
    clerk = staff_user_create(username="clerk", role=StaffRole.AGENT, password=PASSWORD)
    clerk_at_home = citizen_resolve(name="Ana", email="clerk@example.org")
    clerk_at_home.user = clerk
    clerk_at_home.save()
    citizen_merge(source=clerk_at_home, into=walk_in, actor=None)
    clerk.refresh_from_db()
    assert clerk.is_active is True
    assert citizen_history(walk_in)[0].data["account"]["deactivated"] is False


def test_a_split_moves_only_the_chosen_contact_points(
    rosa_twice: tuple[Citizen, Citizen], pothole: Any, boss: Any
) -> None:
    _, work = rosa_twice
    reported = _open(pothole, reporter=work)
    phone = ContactPoint.objects.get(citizen=work, kind="phone")
    new = citizen_split(
        citizen=work,
        contact_point_ids=[phone.pk],
        actor=boss,
        reason="Her partner's phone",
        display_name="Sam",
    )
    assert new.pk != work.pk
    assert (new.display_name, new.preferred_language) == ("Sam", work.preferred_language)
    assert list(new.contact_points.values_list("value", flat=True)) == ["+16175550199"]
    assert list(work.contact_points.values_list("value", flat=True)) == ["r.reporter@work.example"]
    # cases stay with the original person
    assert Case.objects.get(pk=reported.pk).reporter_id == work.pk
    for person in (work, new):
        (event,) = citizen_history(person)
        assert event.kind == PersonEventKind.SPLIT
        assert event.data["from_id"] == work.pk
        assert event.data["new_id"] == new.pk
        assert event.data["contact_points"][0]["value"] == "+16175550199"
    assert citizen_resolve(phone="617-555-0199").pk == new.pk


def test_a_split_refuses_all_none_or_someone_elses_points(
    rosa_twice: tuple[Citizen, Citizen],
) -> None:
    home, work = rosa_twice
    mine = list(work.contact_points.values_list("pk", flat=True))
    theirs = home.contact_points.get().pk
    for chosen in ([], mine, [mine[0], theirs]):
        with pytest.raises(ValidationFailed):
            citizen_split(citizen=work, contact_point_ids=chosen, actor=None)
    assert Citizen.objects.count() == 2
    assert work.contact_points.count() == 2
    assert not PersonEvent.objects.exists()


def test_contact_points_added_verified_and_moved_are_recorded(
    rosa_twice: tuple[Citizen, Citizen], boss: Any
) -> None:
    home, work = rosa_twice
    point = contact_point_add(citizen=home, kind="phone", value="617 555 0123", actor=boss)
    assert point.value == "+16175550123"
    with pytest.raises(ValidationFailed):
        contact_point_add(citizen=home, kind="email", value="r.reporter@work.example", actor=boss)
    contact_point_verify(point=point, actor=boss)
    contact_point_verify(point=point, actor=boss)  # already verified: nothing more written
    contact_point_move(point=point, into=work, actor=boss)
    point.refresh_from_db()
    assert (point.citizen_id, point.verified) == (work.pk, True)
    assert [e.kind for e in citizen_history(home)] == [
        PersonEventKind.CONTACT_MOVED,
        PersonEventKind.CONTACT_VERIFIED,
        PersonEventKind.CONTACT_ADDED,
    ]
    assert [e.kind for e in citizen_history(work)] == [PersonEventKind.CONTACT_MOVED]


def test_related_counts_and_likely_duplicates(
    rosa_twice: tuple[Citizen, Citizen], pothole: Any
) -> None:
    home, work = rosa_twice
    _open(pothole, reporter=work)
    counts = {c.label: c.count for c in citizen_related_counts(work)}
    assert counts == {"cases.case.reporter": 1, "people.contactpoint.citizen": 2}
    namesake = citizen_resolve(name="rosa reporter", email="other.rosa@example.org")
    assert citizen_duplicates_likely(home) == [namesake]
    assert citizen_duplicates_likely(work) == []


# --- the admin screens ---------------------------------------------------------------------


@pytest.fixture
def boss_client(client: Client, boss: Any) -> Client:
    client.login(username="boss", password=PASSWORD)
    return client


def test_staff_merge_people_from_the_change_list(
    boss_client: Client, rosa_twice: tuple[Citizen, Citizen], pothole: Any
) -> None:
    home, work = rosa_twice
    case_follow(case=_open(pothole), citizen=work)
    # the action leads to the confirmation page
    response = boss_client.post(
        "/admin/people/citizen/",
        {"action": "merge_people", "_selected_action": [home.pk, work.pk]},
    )
    assert response.status_code == 302
    page = boss_client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "r.reporter@work.example" in html
    assert "Merge selected people" not in html
    assert 'name="survivor"' in html
    # the admin's frame (admin/people/citizen/action_base.html): body class and breadcrumbs
    assert "people-merge" in html and "&rsaquo; Merge people" in html
    assert 'id="id_reason"' in html  # the shared reason row
    # confirming merges into the chosen record
    response = boss_client.post(
        "/admin/people/citizen/merge/",
        {"ids": f"{home.pk},{work.pk}", "survivor": work.pk, "reason": "Duplicate"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/admin/people/citizen/{work.pk}/change/"
    assert list(Citizen.objects.values_list("pk", flat=True)) == [work.pk]
    event = PersonEvent.objects.get()
    assert (event.kind, event.actor_label, event.reason) == ("merged", "boss", "Duplicate")
    # the survivor's page shows the history, read-only, and the event list opens
    html = boss_client.get(response["Location"]).content.decode()
    assert "Duplicate" in html
    assert "Split…" in html
    assert boss_client.get("/admin/people/personevent/").status_code == 200
    assert boss_client.get(f"/admin/people/personevent/{event.pk}/change/").status_code == 200
    assert boss_client.get("/admin/people/personevent/add/").status_code == 403


def test_a_merge_page_with_a_vanished_person_says_so(
    boss_client: Client, rosa_twice: tuple[Citizen, Citizen]
) -> None:
    home, work = rosa_twice
    response = boss_client.post(
        "/admin/people/citizen/merge/",
        {"ids": f"{home.pk},{work.pk}", "survivor": 999999},
    )
    assert response.status_code == 200  # the form says the choice is not valid
    assert Citizen.objects.count() == 2
    assert boss_client.get("/admin/people/citizen/merge/?ids=x").status_code == 302


def test_staff_split_a_person_from_their_page(
    boss_client: Client, rosa_twice: tuple[Citizen, Citizen]
) -> None:
    _, work = rosa_twice
    url = f"/admin/people/citizen/{work.pk}/split/"
    page = boss_client.get(url)
    assert page.status_code == 200
    assert "+16175550199" in page.content.decode()
    phone = work.contact_points.get(kind="phone")
    response = boss_client.post(url, {"contact_points": [phone.pk], "display_name": "Sam"})
    assert response.status_code == 302
    new = Citizen.objects.get(display_name="Sam")
    assert response["Location"] == f"/admin/people/citizen/{new.pk}/change/"
    assert list(new.contact_points.values_list("pk", flat=True)) == [phone.pk]


def test_a_refused_split_is_shown_not_raised(
    boss_client: Client, rosa_twice: tuple[Citizen, Citizen]
) -> None:
    _, work = rosa_twice
    url = f"/admin/people/citizen/{work.pk}/split/"
    everything = list(work.contact_points.values_list("pk", flat=True))
    response = boss_client.post(url, {"contact_points": everything})
    assert response.status_code == 200
    assert "Leave at least one contact point" in response.content.decode()
    response = boss_client.post(url, {"display_name": "Nobody"})
    assert response.status_code == 200
    assert Citizen.objects.count() == 2


def test_staff_without_change_permission_cannot_merge_or_split(
    client: Client, rosa_twice: tuple[Citizen, Citizen]
) -> None:
    home, work = rosa_twice
    staff_user_create(username="cw", role=StaffRole.CASEWORKER, password=PASSWORD)
    client.login(username="cw", password=PASSWORD)
    assert client.get("/admin/people/citizen/").status_code == 200
    assert "merge_people" not in client.get("/admin/people/citizen/").content.decode()
    ids = f"{home.pk},{work.pk}"
    assert client.get(f"/admin/people/citizen/merge/?ids={ids}").status_code == 403
    merge = client.post("/admin/people/citizen/merge/", {"ids": ids, "survivor": home.pk})
    assert merge.status_code == 403
    split = f"/admin/people/citizen/{work.pk}/split/"
    assert client.get(split).status_code == 403
    phone = work.contact_points.get(kind="phone")
    assert client.post(split, {"contact_points": [phone.pk]}).status_code == 403
    assert "Split…" not in client.get(f"/admin/people/citizen/{work.pk}/change/").content.decode()
    assert Citizen.objects.count() == 2
    assert not PersonEvent.objects.exists()


def test_a_resident_signing_in_records_the_verified_address(db: None) -> None:
    citizen = citizen_account_for_email(email="ana@example.org")
    citizen_account_for_email(email="ana@example.org")
    (event,) = citizen_history(citizen)
    assert (event.kind, event.actor_id, event.actor_label) == (
        PersonEventKind.CONTACT_VERIFIED,
        None,
        "sign-in link",
    )
    assert get_user_model().objects.filter(pk=citizen.user_id, is_active=True).exists()


def test_the_split_and_erase_pages_share_the_admin_frame(
    boss_client: Client, rosa_twice: tuple[Citizen, Citizen]
) -> None:
    home, _work = rosa_twice
    for action, slug, title in [
        ("split", "people-split", "&rsaquo; Split"),
        ("erase", "people-erase", "&rsaquo; Erase personal data"),
    ]:
        page = boss_client.get(f"/admin/people/citizen/{home.pk}/{action}/")
        assert page.status_code == 200, action
        html = page.content.decode()
        assert slug in html and title in html
        assert f'href="/admin/people/citizen/{home.pk}/change/"' in html  # back to the person
