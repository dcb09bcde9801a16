"""The console case page's "Forwarded" panel (console/views/forwards.py)."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from tests.console.conftest import dpw, isd, quick_passwords, signed_in, staff  # noqa: F401
from tests.forwarding.fwdwork_fixtures import body_make, case_make, forward_make
from townhall.cases.models import CaseEvent, CaseEventKind
from townhall.core import clock
from townhall.forwarding.models import Forward, ForwardState, ForwardSync, SyncKind
from townhall.forwarding.selectors import SYNCS_SHOWN, forwards_for_case

pytestmark = pytest.mark.django_db
# Playwright runs an event loop in this thread; the ORM calls here block all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def forwarded(staff: dict[str, Any], pothole: Any) -> Any:  # noqa: F811
    body = body_make("county-works", name="Kent County Highways")
    forward = forward_make(
        case_make(pothole), body, remote_id="WO-77", remote_status="investigating"
    )
    now = clock.now()
    ForwardSync.objects.create(
        forward=forward, at=now - timedelta(minutes=50), kind=SyncKind.SEND, elapsed_ms=231
    )
    ForwardSync.objects.create(
        forward=forward,
        at=now - timedelta(minutes=5),
        kind=SyncKind.INBOUND,
        ok=False,
        remote_status="zzz_unknown",
        detail="the body reported a status we do not know",
        elapsed_ms=None,
    )
    return forward


def test_the_panel_shows_where_it_went_the_remote_id_and_every_sync(
    staff: dict[str, Any],  # noqa: F811
    forwarded: Any,
) -> None:
    page = signed_in(staff["caseworker"]).get(f"/console/cases/{forwarded.case_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    panel = html[html.index('id="forwarded"') :]
    for text in (
        "Kent County Highways",
        "WO-77",
        "investigating",
        "zzz_unknown",
        "the body reported a status we do not know",
        "231",
        str(ForwardState.SENT.label),
    ):
        assert text in panel, text
    # Newest sync first.
    assert panel.index("zzz_unknown") < panel.index("231")


def test_no_panel_for_a_case_never_forwarded_when_there_is_no_body(
    staff: dict[str, Any],  # noqa: F811
    pothole: Any,
) -> None:
    case = case_make(pothole)
    html = signed_in(staff["caseworker"]).get(f"/console/cases/{case.pk}/").content.decode()
    assert 'id="forwarded"' not in html


def test_the_syncs_shown_are_capped_and_the_query_count_does_not_grow(
    forwarded: Any, django_assert_max_num_queries: Any
) -> None:
    ForwardSync.objects.bulk_create(
        ForwardSync(forward=forwarded, kind=SyncKind.POLL, remote_status=f"s{i}")
        for i in range(SYNCS_SHOWN + 10)
    )
    with django_assert_max_num_queries(2):
        views = forwards_for_case(forwarded.case_id)
    assert len(views) == 1 and len(views[0].syncs) == SYNCS_SHOWN
    ats = [s.at for s in views[0].syncs]
    assert ats == sorted(ats, reverse=True)


def test_other_departments_residents_and_strangers_never_see_the_panel(
    staff: dict[str, Any],  # noqa: F811
    forwarded: Any,
) -> None:
    url = f"/console/cases/{forwarded.case_id}/"
    assert signed_in(staff["other_caseworker"]).get(url).status_code == 404
    assert signed_in(staff["resident"]).get(url).status_code == 403
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "WO-77" not in anonymous.content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_panel_passes_axe_in_chromium(
    live_server: Any,
    browser: Any,
    staff: dict[str, Any],  # noqa: F811
    forwarded: Any,
) -> None:
    from tests.browser import assert_accessible
    from tests.console.conftest import PASSWORD

    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    path = f"/console/cases/{forwarded.case_id}/"
    page.goto(f"{live_server.url}/admin/login/?next={path}")
    page.fill("#id_username", staff["caseworker"].get_username())
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + path)
    panel = page.locator("#forwarded")
    assert "WO-77" in panel.inner_text()
    assert page.locator("#forwarded table.th-syncs tbody tr").count() == 2
    assert_accessible(page)
    context.close()


# --- staff actions (forwarding.sending through console/views/forward_actions.py) ----------


def test_staff_withdraw_a_forward_with_a_reason(
    staff: dict[str, Any],  # noqa: F811
    forwarded: Any,
) -> None:
    client = signed_in(staff["caseworker"])
    url = f"/console/cases/{forwarded.case_id}/forwards/{forwarded.pk}/withdraw/"
    no_reason = client.post(url, {"reason": "  "})
    assert no_reason.status_code == 400
    assert Forward.objects.get(pk=forwarded.pk).state == ForwardState.SENT
    done = client.post(url, {"reason": "The county says it is ours"})
    assert done.status_code == 302
    assert Forward.objects.get(pk=forwarded.pk).state == ForwardState.WITHDRAWN
    notes = CaseEvent.objects.filter(case_id=forwarded.case_id, kind=CaseEventKind.NOTE)
    assert any("The county says it is ours" in n.content.get("text", "") for n in notes)


def test_staff_resend_only_a_failed_forward(
    staff: dict[str, Any],  # noqa: F811
    forwarded: Any,
) -> None:
    client = signed_in(staff["caseworker"])
    url = f"/console/cases/{forwarded.case_id}/forwards/{forwarded.pk}/resend/"
    assert client.post(url).status_code == 400  # a sent forward is not resent
    Forward.objects.filter(pk=forwarded.pk).update(state=ForwardState.FAILED, last_error="503")
    html = client.get(f"/console/cases/{forwarded.case_id}/").content.decode()
    assert "Resend to Kent County Highways" in html
    assert client.post(url).status_code == 302
    assert Forward.objects.get(pk=forwarded.pk).state == ForwardState.PENDING


def test_staff_forward_a_kept_case_to_a_body(
    staff: dict[str, Any],  # noqa: F811
    pothole: Any,
) -> None:
    body = body_make("district-works", name="District Works")
    case = case_make(pothole)
    client = signed_in(staff["caseworker"])
    html = client.get(f"/console/cases/{case.pk}/").content.decode()
    assert "Forward to…" in html and "District Works" in html
    url = f"/console/cases/{case.pk}/forward/"
    assert client.post(url, {"body": "999999"}).status_code == 400
    assert client.post(url, {"body": "1; drop table"}).status_code == 400
    assert client.post(url, {"body": str(body.pk)}).status_code == 302
    forward = Forward.objects.get(case=case)
    assert forward.body == body and forward.state == ForwardState.PENDING
    # Already with a body: refused, said on the page.
    again = client.post(url, {"body": str(body.pk)})
    assert again.status_code == 400
    assert Forward.objects.filter(case=case).count() == 1


def test_residents_strangers_and_other_departments_cannot_act(
    staff: dict[str, Any],  # noqa: F811
    forwarded: Any,
) -> None:
    base = f"/console/cases/{forwarded.case_id}"
    posts = [
        (f"{base}/forwards/{forwarded.pk}/withdraw/", {"reason": "mine now"}),
        (f"{base}/forwards/{forwarded.pk}/resend/", {}),
        (f"{base}/forward/", {"body": str(forwarded.body_id)}),
    ]
    Forward.objects.filter(pk=forwarded.pk).update(state=ForwardState.FAILED)
    for url, data in posts:
        assert Client().post(url, data).status_code == 302  # to the sign-in page
        assert signed_in(staff["resident"]).post(url, data).status_code == 403
        assert signed_in(staff["other_caseworker"]).post(url, data).status_code == 404
        assert signed_in(staff["caseworker"]).get(url).status_code == 405
    assert Forward.objects.get(pk=forwarded.pk).state == ForwardState.FAILED
    assert Forward.objects.filter(case_id=forwarded.case_id).count() == 1


def test_a_forward_of_another_case_cannot_be_acted_on_through_this_one(
    staff: dict[str, Any],  # noqa: F811
    forwarded: Any,
    pothole: Any,
) -> None:
    other = case_make(pothole, "Another")
    url = f"/console/cases/{other.pk}/forwards/{forwarded.pk}/withdraw/"
    assert signed_in(staff["caseworker"]).post(url, {"reason": "x"}).status_code == 404
    assert Forward.objects.get(pk=forwarded.pk).state == ForwardState.SENT


def test_the_actions_need_the_csrf_token(
    staff: dict[str, Any],  # noqa: F811
    forwarded: Any,
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff["caseworker"])
    url = f"/console/cases/{forwarded.case_id}/forwards/{forwarded.pk}/withdraw/"
    assert client.post(url, {"reason": "x"}).status_code == 403
    assert Forward.objects.get(pk=forwarded.pk).state == ForwardState.SENT
