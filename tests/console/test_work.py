"""Supervisors move due dates and cases, staff record time, reuse replies and log calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from tests.console.conftest import signed_in
from townhall.cases.models import Case, CaseEventKind, TimeEntry
from townhall.cases.selectors import staff_hours_per_request
from townhall.cases.services import case_acknowledge, case_open, case_transition
from townhall.console.models import CannedResponse
from townhall.core import clock
from townhall.notify.services import notification_send_due
from townhall.people.services import citizen_resolve

pytestmark = pytest.mark.django_db


def _open(service: Any, **extra: Any) -> Case:
    answers = {"size": "small"} if service.code == "pothole" else {}
    case = case_open(
        service_type=service, channel="web", answers=answers, description="Help", **extra
    )
    case_acknowledge(case_id=case.pk)
    case.refresh_from_db()
    return case


def test_a_supervisor_moves_the_due_date_with_a_reason_the_resident_does_not_see(
    staff: dict[str, Any], pothole: Any
) -> None:
    case = _open(pothole)
    Case.objects.filter(pk=case.pk).update(
        due_at=clock.now() - timedelta(hours=1), breached_at=clock.now()
    )
    new_due = (clock.now() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    caseworker = signed_in(staff["caseworker"])
    denied = caseworker.post(f"/console/cases/{case.pk}/due/", {"due_at": new_due, "reason": "x"})
    assert denied.status_code == 403
    supervisor = signed_in(staff["supervisor"])
    missing = supervisor.post(f"/console/cases/{case.pk}/due/", {"due_at": new_due, "reason": ""})
    assert missing.status_code == 400 and "Say why the date changes" in missing.content.decode()
    past = supervisor.post(
        f"/console/cases/{case.pk}/due/", {"due_at": "2020-01-01T10:00", "reason": "Parts"}
    )
    assert past.status_code == 400 and "in the future" in past.content.decode()
    done = supervisor.post(
        f"/console/cases/{case.pk}/due/",
        {"due_at": new_due, "reason": "Waiting for the contractor's asphalt"},
    )
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.breached_at is None and case.due_at is not None
    event = case.events.get(kind=CaseEventKind.DUE_CHANGED)
    assert event.public and event.content["reason"] == "Waiting for the contractor's asphalt"
    public = Client().get("/track/", {"reference": case.reference}).content.decode()
    assert "We now aim to finish by" in public and "asphalt" not in public
    staff_page = supervisor.get(f"/console/cases/{case.pk}/").content.decode()
    assert "asphalt" in staff_page


def test_a_paused_case_has_no_due_date_to_move(staff: dict[str, Any], pothole: Any) -> None:
    case = _open(pothole)
    case_transition(case=case, to="awaiting_citizen", actor=staff["caseworker"])
    future = (clock.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = signed_in(staff["supervisor"]).post(
        f"/console/cases/{case.pk}/due/", {"due_at": future, "reason": "Because"}
    )
    assert response.status_code == 400
    assert "Only a running case" in response.content.decode()


def test_a_transfer_moves_the_case_to_the_other_department_queue(
    staff: dict[str, Any], pothole: Any, isd: Any
) -> None:
    case = _open(pothole)
    supervisor = signed_in(staff["supervisor"])
    no_reason = supervisor.post(f"/console/cases/{case.pk}/transfer/", {"department": isd.pk})
    assert no_reason.status_code == 400
    moved = supervisor.post(
        f"/console/cases/{case.pk}/transfer/",
        {"department": isd.pk, "reason": "A housing matter, not a road"},
    )
    assert moved.status_code == 302
    case.refresh_from_db()
    assert case.department_id == isd.pk and case.assignee_id is None
    assert case.events.get(kind=CaseEventKind.TRANSFERRED).data["to"] == "isd"
    # Public Works can no longer see it; Inspectional Services can
    assert supervisor.get(f"/console/cases/{case.pk}/").status_code == 404
    daniel = signed_in(staff["other_caseworker"])
    assert case.reference in daniel.get("/console/queues/unassigned/").content.decode()


def test_time_is_recorded_per_case_and_feeds_hours_per_request(
    staff: dict[str, Any], pothole: Any
) -> None:
    a, b = _open(pothole), _open(pothole)
    client = signed_in(staff["caseworker"])
    assert client.post(f"/console/cases/{a.pk}/time/", {"minutes": "45"}).status_code == 302
    assert (
        client.post(f"/console/cases/{a.pk}/time/", {"minutes": "15", "note": "Call"}).status_code
        == 302
    )
    assert client.post(f"/console/cases/{b.pk}/time/", {"minutes": "60"}).status_code == 302
    for bad in ("0", "1441", "ten", ""):
        response = client.post(f"/console/cases/{a.pk}/time/", {"minutes": bad})
        assert response.status_code == 400, bad
    assert TimeEntry.objects.count() == 3
    assert "60 minutes recorded" in client.get(f"/console/cases/{a.pk}/").content.decode()
    today = clock.now().date()
    hours = staff_hours_per_request(
        since=today - timedelta(days=1), until=today + timedelta(days=1)
    )
    assert hours == pytest.approx(1.0)  # 120 minutes over two cases


def test_a_canned_response_fills_the_note_with_the_case_details(
    staff: dict[str, Any], pothole: Any, no_heat: Any
) -> None:
    rosa = citizen_resolve(name="Rosa", email="rosa@example.org")
    case = _open(pothole, reporter=rosa)
    CannedResponse.objects.create(
        title="Crew booked",
        body="Hello {name}, a crew will fix {service} {reference} by {expected_date}. {staff_name}",
        department=case.department,
    )
    CannedResponse.objects.create(title="Housing only", body="x", department=no_heat.department)
    client = signed_in(staff["caseworker"])
    page = client.get(f"/console/cases/{case.pk}/").content.decode()
    assert "Crew booked" in page and "Housing only" not in page
    canned = CannedResponse.objects.get(title="Crew booked")
    filled = client.get(f"/console/cases/{case.pk}/", {"canned": canned.pk}).content.decode()
    assert f"Hello Rosa, a crew will fix Pothole {case.reference} by" in filled
    assert "Keisha" in filled and "{" not in filled.split("Hello Rosa")[1].split("</textarea>")[0]


def test_unknown_placeholders_are_refused_in_the_admin_form(dpw: Any) -> None:
    from django.core.exceptions import ValidationError

    canned = CannedResponse(title="Oops", body="Dear {nmae}", department=dpw)
    with pytest.raises(ValidationError) as caught:
        canned.full_clean()
    assert "nmae" in str(caught.value)


def test_an_agent_finds_the_caller_and_logs_a_new_case_or_an_update(
    staff: dict[str, Any], pothole: Any
) -> None:
    caller = citizen_resolve(name="Tomás", phone="617-555-0142")
    earlier = _open(pothole, reporter=caller)
    client = signed_in(staff["agent"])
    found = client.get("/console/calls/", {"contact": "(617) 555-0142"}).content.decode()
    assert "Tomás" in found and earlier.reference in found
    unknown = client.get("/console/calls/", {"contact": "617-555-0199"}).content.decode()
    assert "No resident has these details yet" in unknown
    garbage = client.get("/console/calls/", {"contact": "not a number"})
    assert garbage.status_code == 400
    # an update on the existing case
    noted = client.post(
        f"/console/cases/{earlier.pk}/call/", {"text": "Still there, getting deeper"}
    )
    assert noted.status_code == 302
    note = earlier.events.filter(kind=CaseEventKind.NOTE).latest("seq")
    assert note.channel == "phone" and "getting deeper" in note.content["text"]
    # a new case for the same caller: they are recognised, not registered twice
    form = {"service": "pothole", "description": "Another hole on Elm", "phone": "+16175550142"}
    asked = client.post("/console/calls/?contact=617-555-0142", form)
    assert asked.status_code == 200 and "How big is it?" in asked.content.decode()
    assert "There is a problem" not in asked.content.decode()  # asked, not yet checked
    unanswered = client.post("/console/calls/", {**form, "asked": "pothole"})
    assert unanswered.status_code == 400 and "How big is it?" in unanswered.content.decode()
    assert Case.objects.count() == 1
    opened = client.post(
        "/console/calls/?contact=617-555-0142",
        {**form, "asked": "pothole", "attribute_size": "large"},
    )
    assert opened.status_code == 302, opened.content.decode().split("govuk-error-summary__list")[
        -1
    ][:400]
    new = Case.objects.latest("pk")
    assert new.channel == "phone" and new.reporter_id == caller.pk
    assert new.answers == {"size": "large"}
    assert "/console/cases/" in opened["Location"]
    empty = client.post("/console/calls/", {"service": "", "description": ""})
    assert empty.status_code == 400 and "Choose a service" in empty.content.decode()


def test_the_team_page_shows_load_and_breaches_for_supervisors_only(
    staff: dict[str, Any], pothole: Any, no_heat: Any
) -> None:
    from townhall.cases.services import case_assign

    late = _open(pothole)
    case_assign(case=late, assignee=staff["caseworker"], actor=staff["supervisor"])
    Case.objects.filter(pk=late.pk).update(due_at=clock.now() - timedelta(hours=2))
    _open(no_heat)
    assert signed_in(staff["caseworker"]).get("/console/team/").status_code == 403
    page = signed_in(staff["supervisor"]).get("/console/team/").content.decode()
    assert "Public Works" in page and "Inspectional Services" not in page
    assert late.reference in page and "Keisha" in page


def test_a_breach_is_escalated_to_the_departments_supervisors_once_per_scan(
    staff: dict[str, Any], pothole: Any, no_heat: Any, mailoutbox: list[Any]
) -> None:
    from townhall.cases.services import case_sla_scan

    late = [_open(pothole), _open(pothole)]
    on_time = _open(pothole)
    Case.objects.filter(pk__in=[c.pk for c in late]).update(
        due_at=clock.now() - timedelta(minutes=5)
    )
    assert case_sla_scan() == 2
    notification_send_due()  # the digests go through the outbox
    event = late[0].events.get(kind=CaseEventKind.SLA_BREACHED)
    assert sorted(event.data["escalated_to"]) == ["dora", "frank"]
    assert sorted(m.to[0] for m in mailoutbox) == [
        "dora@council.example.org",
        "frank@council.example.org",
    ]
    body = mailoutbox[0].body
    assert late[0].reference in body and late[1].reference in body
    assert on_time.reference not in body
    assert case_sla_scan() == 0 and notification_send_due() == 0
    assert len(mailoutbox) == 2  # nothing new, nobody mailed again


def test_mentions_bring_colleagues_in_and_watchers_hear_of_changes(
    staff: dict[str, Any], pothole: Any, mailoutbox: list[Any]
) -> None:
    from townhall.cases.models import CaseWatcher

    case = _open(pothole)
    keisha, frank = staff["caseworker"], staff["supervisor"]
    client = signed_in(keisha)
    response = client.post(
        f"/console/cases/{case.pk}/note/",
        {
            "text": "@frank can you approve the overtime? cc @daniel @nobody",
            "visibility": "internal",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "@daniel was not told" in page and "@nobody was not told" in page  # other dept
    assert set(CaseWatcher.objects.values_list("user__username", flat=True)) == {"frank"}
    notification_send_due()  # watcher mail goes through the outbox
    [mail] = mailoutbox
    assert mail.to == ["frank@council.example.org"]
    assert "Keisha mentioned you on" in mail.subject and "overtime" in mail.body
    assert f"/console/cases/{case.pk}/" in mail.body
    # Frank watches now: Keisha's status change reaches him, his own does not reach himself
    client.post(f"/console/cases/{case.pk}/status/", {"to": "in_progress"})
    notification_send_due()
    assert len(mailoutbox) == 2 and "In progress" in mailoutbox[1].body
    signed_in(frank).post(
        f"/console/cases/{case.pk}/note/", {"text": "OK", "visibility": "internal"}
    )
    notification_send_due()
    assert len(mailoutbox) == 2
    # Keisha chooses to watch too, then Frank's note reaches her
    client.post(f"/console/cases/{case.pk}/watch/", {"watch": "1"})
    signed_in(frank).post(
        f"/console/cases/{case.pk}/note/", {"text": "Done", "visibility": "internal"}
    )
    notification_send_due()
    assert mailoutbox[-1].to == ["keisha@council.example.org"]
    client.post(f"/console/cases/{case.pk}/watch/", {"watch": "0"})
    assert not CaseWatcher.objects.filter(user=keisha).exists()
    # an e-mail address is not a mention
    client.post(
        f"/console/cases/{case.pk}/note/",
        {"text": "wrote to ops@frank.org", "visibility": "internal"},
    )
    notification_send_due()
    assert "ops" not in " ".join(m.subject for m in mailoutbox[3:])


def test_part_of_a_case_is_split_off_as_a_new_case_for_the_same_resident(
    staff: dict[str, Any], pothole: Any, no_heat: Any
) -> None:
    rosa = citizen_resolve(name="Rosa", email="rosa@example.org")
    case = _open(pothole, reporter=rosa, address="12 Elm Street", lat=42.36, long=-71.09)
    client = signed_in(staff["caseworker"])
    asked = client.post(
        f"/console/cases/{case.pk}/split/", {"service": "pothole", "description": "Second hole"}
    )
    assert asked.status_code == 200 and "How big is it?" in asked.content.decode()
    assert Case.objects.count() == 1  # asked first, nothing opened
    unanswered = client.post(
        f"/console/cases/{case.pk}/split/",
        {"service": "pothole", "description": "Second hole", "asked": "pothole"},
    )
    assert unanswered.status_code == 400 and Case.objects.count() == 1
    done = client.post(
        f"/console/cases/{case.pk}/split/",
        {"service": "no_heat", "description": "Also no heating in the flat above"},
    )
    assert done.status_code == 302  # no questions for no_heat: opened at once
    new = Case.objects.latest("pk")
    assert new.service_type_id == no_heat.pk and new.reporter_id == rosa.pk
    assert (new.address, new.lat, new.long) == ("12 Elm Street", 42.36, -71.09)
    assert new.department_id != case.department_id
    # Keisha cannot see Inspectional Services' new case, so she stays on the original
    assert done["Location"].endswith(f"/console/cases/{case.pk}/#actions")
    here = case.events.get(kind=CaseEventKind.SPLIT)
    there = new.events.get(kind=CaseEventKind.SPLIT)
    assert here.public and here.data["to"] == new.reference
    assert there.data["from"] == case.reference
    public = Client().get("/track/", {"reference": case.reference}).content.decode()
    assert f"now handled as request {new.reference}" in public


def test_the_scan_marks_overdue_cases_in_batches_and_keeps_every_chain_whole(
    staff: dict[str, Any], pothole: Any
) -> None:
    from townhall.cases.selectors import ledger_verify
    from townhall.cases.services import case_sla_scan

    cases = [_open(pothole) for _ in range(5)]
    case_transition(case=cases[4], to="awaiting_citizen", actor=staff["caseworker"])  # paused
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(
        due_at=clock.now() - timedelta(hours=1)
    )
    assert case_sla_scan(batch=2) == 4  # three batches: 2, 2, then none left
    marked = Case.objects.filter(breached_at__isnull=False).count()
    assert marked == 4
    for case in cases[:4]:
        events = list(case.events.order_by("seq").values_list("seq", "kind"))
        assert events[-1][1] == CaseEventKind.SLA_BREACHED
        assert [seq for seq, _ in events] == list(range(1, len(events) + 1))
    checked, breaks = ledger_verify()
    assert checked > 0 and breaks == []


def test_merging_in_the_console_moves_followers_and_keeps_both_chains_whole(
    staff: dict[str, Any], pothole: Any
) -> None:
    from townhall.cases.models import CaseFollower
    from townhall.cases.selectors import ledger_verify
    from townhall.cases.services import case_follow

    original, repeat = _open(pothole), _open(pothole)
    neighbour = citizen_resolve(name="Ana", email="ana@example.org")
    case_follow(case=repeat, citizen=neighbour)
    response = signed_in(staff["caseworker"]).post(
        f"/console/cases/{repeat.pk}/merge/", {"into": original.reference}
    )
    assert response.status_code == 302 and response["Location"] == f"/console/cases/{original.pk}/"
    repeat.refresh_from_db()
    assert repeat.status == "duplicate" and repeat.merged_into_id == original.pk
    assert CaseFollower.objects.filter(case=original, citizen=neighbour).exists()
    assert repeat.events.filter(kind=CaseEventKind.MERGED).exists()
    assert original.events.filter(kind=CaseEventKind.MERGED).exists()
    checked, breaks = ledger_verify(case_ids=[original.pk, repeat.pk])
    assert checked >= 6 and breaks == []


@pytest.mark.parametrize("extra", [0, 40])
def test_the_case_page_costs_the_same_queries_however_long_its_story(
    staff: dict[str, Any], pothole: Any, extra: int
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from townhall.cases.services import case_note_add

    rosa = citizen_resolve(name="Rosa", email="rosa@example.org")
    case = _open(pothole, reporter=rosa)
    keisha = staff["caseworker"]
    for i in range(extra):  # a long history and many other requests from the same resident
        case_note_add(case=case, text=f"note {i}", actor=keisha, public=bool(i % 2))
        _open(pothole, reporter=rosa)
    CannedResponse.objects.create(title="Thanks", body="Thank you {name}")
    client = signed_in(keisha)
    client.get(f"/console/cases/{case.pk}/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/console/cases/{case.pk}/").status_code == 200
    statements = [
        q["sql"] for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]  # fmt: skip
    # the page's reads, whatever the number of events, photos and other requests
    # (three of them intake's: a pending triage, suggested duplicates, messages received;
    # one for the notes' personal values, kept apart from the hash chain, one for the
    # frustration breakdown, one for the case's payments), and one write: the security
    # event that staff viewed the resident's record; one for the Forwarded panel (issue 22)
    assert len(statements) <= 25, "\n".join(statements)
