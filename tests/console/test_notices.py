"""The console's notices (console/views/notices.py): who may read and act, the list and
its filters, and each action through the services, with crafted and bad input."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.console.conftest import signed_in
from tests.notices.conftest import recall, recalls, road_works_draft, roadworks
from townhall.notices.models import Notice, NoticeEvent
from townhall.notices.selectors import notice_public_get
from townhall.notify.models import AlertTopic

__all__ = ["recall", "recalls", "roadworks"]


@pytest.fixture
def draft(roadworks: AlertTopic) -> Notice:
    return road_works_draft(roadworks)


def _events(notice_id: int) -> list[str]:
    return list(NoticeEvent.objects.filter(notice_id=notice_id).values_list("kind", flat=True))


# --- who ---------------------------------------------------------------------------------


def test_signed_out_goes_to_sign_in(draft: Notice, client: Client) -> None:
    response = client.get("/console/notices/")
    assert response.status_code == 302 and "login" in response["Location"]
    response = client.post(f"/console/notices/{draft.pk}/publish/")
    assert response.status_code == 302
    assert Notice.objects.get(pk=draft.pk).status == "draft"


@pytest.mark.parametrize("who", ["resident", "agent"])
def test_residents_and_staff_without_the_permission_get_403(
    who: str, staff: dict[str, Any], draft: Notice
) -> None:
    client = signed_in(staff[who])
    assert client.get("/console/notices/").status_code == 403
    assert client.get(f"/console/notices/{draft.pk}/").status_code == 403
    assert client.post(f"/console/notices/{draft.pk}/publish/").status_code == 403
    assert client.post(f"/console/notices/{draft.pk}/withdraw/").status_code == 403
    assert Notice.objects.get(pk=draft.pk).status == "draft"


def test_caseworkers_read_but_cannot_act(staff: dict[str, Any], draft: Notice) -> None:
    client = signed_in(staff["caseworker"])
    page = client.get(f"/console/notices/{draft.pk}/")
    assert page.status_code == 200
    assert "Main Street closed" in page.content.decode()
    assert "Publish" not in page.content.decode()
    assert client.post(f"/console/notices/{draft.pk}/publish/").status_code == 403
    edit = {"topic": "roadworks", "title": "Hacked", "body": "x"}
    assert client.post(f"/console/notices/{draft.pk}/edit/", edit).status_code == 403
    assert client.post("/console/notices/expire/").status_code == 403
    assert Notice.objects.get(pk=draft.pk).title == "Main Street closed"
    assert _events(draft.pk) == ["created"]


def test_a_crafted_post_without_csrf_token_is_refused(staff: dict[str, Any], draft: Notice) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff["supervisor"])
    assert client.post(f"/console/notices/{draft.pk}/publish/").status_code == 403
    assert Notice.objects.get(pk=draft.pk).status == "draft"


def test_actions_answer_only_post(staff: dict[str, Any], draft: Notice) -> None:
    client = signed_in(staff["supervisor"])
    assert client.get(f"/console/notices/{draft.pk}/publish/").status_code == 405
    assert client.post("/console/notices/").status_code == 405


# --- the list ----------------------------------------------------------------------------


def test_list_shows_every_status_with_codes_and_filters(
    staff: dict[str, Any], draft: Notice, recall: Notice
) -> None:
    client = signed_in(staff["supervisor"])
    page = client.get("/console/notices/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Main Street closed" in text and "Peanut butter recall" in text
    assert "Draft" in text and "Published" in text
    assert "200 m around 42.3601, -71.0942" in text
    row = text[text.index(f'id="notice-row-{recall.pk}"') :]
    assert '<td class="govuk-table__cell govuk-table__cell--numeric">3</td>' in row[:2000]
    only = client.get("/console/notices/", {"kind": "recall"}).content.decode()
    assert "Peanut butter recall" in only and "Main Street closed" not in only
    drafts = client.get("/console/notices/", {"status": "draft", "topic": "roadworks"})
    assert "Main Street closed" in drafts.content.decode()
    assert "Peanut butter recall" not in drafts.content.decode()


@pytest.mark.parametrize(
    "query",
    [{"kind": "bogus"}, {"status": "<script>"}, {"topic": "nope"}, {"page": "-1"}, {"page": "x"}],
)
def test_bad_filters_answer_400_with_the_error(
    query: dict[str, str], staff: dict[str, Any], draft: Notice
) -> None:
    response = signed_in(staff["supervisor"]).get("/console/notices/", query)
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert "<script>" not in response.content.decode()


def test_list_is_paged(staff: dict[str, Any], roadworks: AlertTopic) -> None:
    for n in range(51):
        road_works_draft(roadworks, title=f"Works {n:02d}")
    client = signed_in(staff["supervisor"])
    first = client.get("/console/notices/").content.decode()
    assert "Works 50" in first and "Works 00" not in first and "Page 1 of 2" in first
    second = client.get("/console/notices/", {"page": "2"}).content.decode()
    assert "Works 00" in second and "Works 50" not in second


def test_unknown_notice_is_404(staff: dict[str, Any], db: None) -> None:
    client = signed_in(staff["supervisor"])
    assert client.get("/console/notices/999999/").status_code == 404
    assert client.post("/console/notices/999999/publish/").status_code == 404


# --- actions -----------------------------------------------------------------------------


def test_publish_then_withdraw(staff: dict[str, Any], draft: Notice) -> None:
    client = signed_in(staff["supervisor"])
    response = client.post(f"/console/notices/{draft.pk}/publish/", follow=True)
    assert "Notice published" in response.content.decode()
    assert notice_public_get(notice_id=draft.pk) is not None
    again = client.post(f"/console/notices/{draft.pk}/publish/")
    assert again.status_code == 400
    assert "Only a draft can be published." in again.content.decode()
    reason = {"reason": "Works postponed"}
    assert client.post(f"/console/notices/{draft.pk}/withdraw/", reason).status_code == 302
    assert notice_public_get(notice_id=draft.pk) is None
    assert _events(draft.pk) == ["created", "published", "withdrawn"]
    page = client.get(f"/console/notices/{draft.pk}/").content.decode()
    assert "Works postponed" in page
    assert client.post(f"/console/notices/{draft.pk}/withdraw/").status_code == 400


def test_withdraw_reason_too_long_is_refused(staff: dict[str, Any], draft: Notice) -> None:
    client = signed_in(staff["supervisor"])
    response = client.post(f"/console/notices/{draft.pk}/withdraw/", {"reason": "x" * 501})
    assert response.status_code == 400
    assert Notice.objects.get(pk=draft.pk).status == "draft"


def _edit(**changes: str) -> dict[str, str]:
    values = {
        "topic": "roadworks",
        "title": "Main Street closed at night",
        "body": "Closed 8pm to 6am.",
        "advice": "",
        "lat": "42.36",
        "long": "-71.09",
        "radius_m": "300",
        "starts_at": "2026-12-10 20:00",
        "ends_at": "2026-12-12 06:00",
    }
    return {**values, **changes}


def test_edit_a_draft(staff: dict[str, Any], draft: Notice) -> None:
    client = signed_in(staff["supervisor"])
    response = client.post(f"/console/notices/{draft.pk}/edit/", _edit())
    assert response.status_code == 302
    notice = Notice.objects.get(pk=draft.pk)
    assert notice.title == "Main Street closed at night" and notice.radius_m == 300
    assert notice.ends_at is not None and notice.starts_at is not None
    assert _events(draft.pk) == ["created", "edited"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": ""}, "This field is required."),
        ({"topic": "no-such-topic"}, "Select a valid choice."),
        ({"ends_at": "2026-12-09 20:00"}, "Choose a later end."),
        ({"lat": "95"}, "Latitude must be within"),
        ({"long": ""}, "Give both latitude and longitude"),
        ({"starts_at": "not a date"}, "Enter a valid date/time."),
    ],
)
def test_bad_edits_change_nothing(
    changes: dict[str, str], message: str, staff: dict[str, Any], draft: Notice
) -> None:
    client = signed_in(staff["supervisor"])
    response = client.post(f"/console/notices/{draft.pk}/edit/", _edit(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Notice.objects.get(pk=draft.pk).title == "Main Street closed"
    assert _events(draft.pk) == ["created"]


def test_a_published_notice_is_not_edited_here(staff: dict[str, Any], recall: Notice) -> None:
    response = signed_in(staff["supervisor"]).post(
        f"/console/notices/{recall.pk}/edit/", _edit(topic="recalls", product="Jam")
    )
    assert response.status_code == 400
    assert "Only a draft can be edited here." in response.content.decode()
    assert Notice.objects.get(pk=recall.pk).title == "Peanut butter recall"


def _csv(text: str, name: str = "codes.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_import_codes_from_a_csv(staff: dict[str, Any], recall: Notice) -> None:
    client = signed_in(staff["supervisor"])
    upload = _csv("lot\nCD-999\nab12346\n<bad code>\n")
    response = client.post(f"/console/notices/{recall.pk}/import/", {"csv_file": upload})
    assert response.status_code == 302
    page = client.get(f"/console/notices/{recall.pk}/").content.decode()
    assert "3 read: 1 added, 1 already there, 1 invalid." in page
    assert "Line 4:" in page
    assert '<dd class="govuk-summary-list__value" id="codes-count">4</dd>' in page
    assert _events(recall.pk)[-1] == "codes_added"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (None, "Choose a CSV file."),
        (SimpleUploadedFile("c.csv", b"\xff\xfe\x00bad", content_type="text/csv"), "not UTF-8"),
    ],
)
def test_bad_uploads_are_refused(
    upload: Any, message: str, staff: dict[str, Any], recall: Notice
) -> None:
    client = signed_in(staff["supervisor"])
    data = {"csv_file": upload} if upload is not None else {}
    response = client.post(f"/console/notices/{recall.pk}/import/", data)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_codes_go_only_to_a_recall(staff: dict[str, Any], draft: Notice) -> None:
    client = signed_in(staff["supervisor"])
    response = client.post(f"/console/notices/{draft.pk}/import/", {"csv_file": _csv("A1\n")})
    assert response.status_code == 400
    assert "Only a product recall has batch codes." in response.content.decode()


def test_a_huge_upload_is_refused(staff: dict[str, Any], recall: Notice, monkeypatch: Any) -> None:
    monkeypatch.setattr("townhall.notices.imports.MAX_UPLOAD", 10)
    monkeypatch.setattr("townhall.console.views.notices.MAX_UPLOAD", 10)
    client = signed_in(staff["supervisor"])
    upload = _csv("code\n" + "A1\n" * 20)
    response = client.post(f"/console/notices/{recall.pk}/import/", {"csv_file": upload})
    assert response.status_code == 400
    assert "over 20 MB" in response.content.decode()


def test_record_ended_notices_as_expired(
    staff: dict[str, Any], roadworks: AlertTopic, settings: Any
) -> None:
    from datetime import timedelta

    from townhall.core import clock
    from townhall.notices.services import notice_publish, notice_update

    notice = road_works_draft(roadworks, ends_at=clock.now() + timedelta(hours=1))
    notice_publish(notice.pk)
    notice_update(notice.pk, ends_at=clock.now() - timedelta(minutes=1), starts_at=None)
    response = signed_in(staff["supervisor"]).post("/console/notices/expire/", follow=True)
    assert "1 ended notices recorded as expired." in response.content.decode()
    assert Notice.objects.get(pk=notice.pk).status == "expired"
