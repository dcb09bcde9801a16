"""Queues hold the right cases, filter and sort, and cost the same queries for 1 row or 60."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.console.conftest import signed_in
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case
from townhall.cases.services import case_acknowledge, case_assign, case_open, case_transition
from townhall.core import clock

pytestmark = pytest.mark.django_db


def _open(service: Any, **extra: Any) -> Case:
    answers = {"size": "small"} if service.code == "pothole" else {}
    case = case_open(
        service_type=service,
        channel=extra.pop("channel", "web"),
        answers=answers,
        description=extra.pop("description", "Help"),
        **extra,
    )
    case_acknowledge(case_id=case.pk)
    case.refresh_from_db()
    return case


def _references(response: Any) -> set[str]:
    html = response.content.decode()
    return {ref for ref in Case.objects.values_list("pk", flat=True) if False} | {
        c.reference for c in Case.objects.all() if c.reference in html
    }


def test_each_queue_holds_its_cases_and_nothing_from_other_departments(
    staff: dict[str, Any], pothole: Any, no_heat: Any
) -> None:
    keisha = staff["caseworker"]
    mine = _open(pothole)
    case_assign(case=mine, assignee=keisha, actor=keisha)
    unassigned = _open(pothole, priority="urgent")  # due in 4 h: breaching soon
    waiting = _open(pothole)
    case_transition(case=waiting, to=CaseStatus.AWAITING_CITIZEN, actor=keisha)
    late = _open(pothole)
    Case.objects.filter(pk=late.pk).update(due_at=clock.now() - timedelta(hours=1))
    elsewhere = _open(no_heat)
    client = signed_in(keisha)

    def queue(slug: str) -> set[str]:
        return _references(client.get(f"/console/queues/{slug}/"))

    assert queue("mine") == {mine.reference}
    assert queue("unassigned") == {unassigned.reference, waiting.reference, late.reference}
    assert queue("breaching") == {unassigned.reference}
    assert queue("breached") == {late.reference}
    assert queue("awaiting") == {waiting.reference}
    assert elsewhere.reference not in queue("all")
    home = client.get("/console/").content.decode()
    assert "My cases" in home


def test_filters_narrow_a_queue_and_bad_filters_are_form_errors(
    staff: dict[str, Any], pothole: Any
) -> None:
    phoned = _open(pothole, channel="phone", address="12 Elm Street")
    web = _open(pothole, address="3 Oak Road", priority="high")
    client = signed_in(staff["caseworker"])
    assert _references(client.get("/console/queues/all/", {"channel": "phone"})) == {
        phoned.reference
    }
    assert _references(client.get("/console/queues/all/", {"area": "oak"})) == {web.reference}
    assert _references(client.get("/console/queues/all/", {"priority": "high"})) == {web.reference}
    assert _references(client.get("/console/queues/all/", {"service": "pothole"})) == {
        phoned.reference,
        web.reference,
    }
    bad = client.get("/console/queues/all/", {"status": "exploded", "page": "-3"})
    assert bad.status_code == 400
    assert "There is a problem" in bad.content.decode()
    for nonsense in ({"service": "nope"}, {"age": "999"}, {"sort": "x"}, {"page": "abc"}):
        assert client.get("/console/queues/all/", nonsense).status_code == 400


def test_pages_of_fifty_with_a_next_link_and_live_refresh_returns_only_the_table(
    staff: dict[str, Any], pothole: Any
) -> None:
    for _ in range(55):
        _open(pothole)
    client = signed_in(staff["caseworker"])
    first = client.get("/console/queues/unassigned/").content.decode()
    assert first.count('name="cases"') == 50 and "Next page" in first
    second = client.get("/console/queues/unassigned/", {"page": 2}).content.decode()
    assert second.count('name="cases"') == 5 and "Previous page" in second
    partial = client.get("/console/queues/unassigned/", headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert html.lstrip().startswith('<div id="queue-table"') and "<html" not in html


@pytest.mark.parametrize("rows", [1, 60])
def test_a_queue_page_costs_the_same_queries_for_one_row_or_sixty(
    staff: dict[str, Any], pothole: Any, rows: int
) -> None:
    keisha = staff["caseworker"]
    for _ in range(rows):
        case = _open(pothole)
        case_assign(case=case, assignee=keisha, actor=keisha)
    client = signed_in(keisha)
    client.get("/console/queues/mine/")  # warm the session and caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/console/queues/mine/").status_code == 200
    statements = [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    # session, user, authenticator?, memberships, permissions (2), counts, services, views, page
    assert len(statements) <= 10, "\n".join(statements)


def test_bulk_take_and_release(staff: dict[str, Any], pothole: Any, no_heat: Any) -> None:
    a, b = _open(pothole), _open(pothole)
    hidden = _open(no_heat)
    client = signed_in(staff["agent"])
    response = client.post(
        "/console/bulk/",
        {"cases": [a.pk, b.pk, hidden.pk], "action": "take", "next": "/console/queues/mine/"},
    )
    assert response.status_code == 302 and response["Location"] == "/console/queues/mine/"
    assert set(Case.objects.filter(assignee=staff["agent"]).values_list("pk", flat=True)) == {
        a.pk,
        b.pk,
    }
    client.post("/console/bulk/", {"cases": [a.pk], "action": "release"})
    a.refresh_from_db()
    assert a.assignee_id is None
    nothing = client.post("/console/bulk/", {"action": "take", "next": "https://evil.example/"})
    assert nothing.status_code == 302 and nothing["Location"].startswith("/console/")


def test_a_filtered_queue_is_saved_as_a_named_view_of_ones_own(
    staff: dict[str, Any], pothole: Any
) -> None:
    from townhall.console.models import SavedView

    client = signed_in(staff["caseworker"])
    page = client.get("/console/queues/all/", {"channel": "phone", "sort": "oldest"})
    assert "Save view" in page.content.decode()
    saved = client.post(
        "/console/queues/all/save/", {"name": "Phone, oldest", "query": "channel=phone&sort=oldest"}
    )
    assert saved.status_code == 302
    view = SavedView.objects.get()
    listed = client.get("/console/queues/mine/").content.decode()
    assert (
        "Phone, oldest" in listed and "/console/queues/all/?channel=phone&amp;sort=oldest" in listed
    )
    assert "Phone, oldest" not in signed_in(staff["agent"]).get("/console/").content.decode()
    stranger = signed_in(staff["agent"]).post(f"/console/views/{view.pk}/delete/")
    assert stranger.status_code == 404 and SavedView.objects.exists()
    assert client.post("/console/queues/all/save/", {"name": ""}).status_code == 302
    assert SavedView.objects.count() == 1
    assert client.post(f"/console/views/{view.pk}/delete/").status_code == 302
    assert not SavedView.objects.exists()


def test_menu_counts_stop_at_the_cap(staff: dict[str, Any], pothole: Any, monkeypatch: Any) -> None:
    from townhall.console import queues

    monkeypatch.setattr(queues, "COUNT_CAP", 3)
    for _ in range(5):
        _open(pothole)
    html = signed_in(staff["caseworker"]).get("/console/queues/mine/").content.decode()
    assert '<span class="th-count" id="count-unassigned">3+</span>' in html
    assert '<span class="th-count" id="count-mine">0</span>' in html


def test_the_breached_count_takes_marked_and_merely_overdue_cases(
    staff: dict[str, Any], pothole: Any, monkeypatch: Any
) -> None:
    from townhall.console import queues

    monkeypatch.setattr(queues, "COUNT_CAP", 3)
    past = clock.now() - timedelta(hours=1)
    overdue = [_open(pothole) for _ in range(2)]
    Case.objects.filter(pk__in=[c.pk for c in overdue]).update(due_at=past)  # not yet marked
    client = signed_in(staff["caseworker"])
    html = client.get("/console/queues/mine/").content.decode()
    assert '<span class="th-count" id="count-breached">2</span>' in html
    marked = [_open(pothole) for _ in range(4)]
    Case.objects.filter(pk__in=[c.pk for c in marked]).update(due_at=past, breached_at=past)
    html = client.get("/console/queues/mine/").content.decode()
    assert '<span class="th-count" id="count-breached">3+</span>' in html
