"""The portal's notices: the list, near an address, one notice, the home page, and the
batch-code check (typed, without JavaScript): affected or not, clear 400s, rate-limited."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.notices.conftest import HOME, road_works_draft
from townhall.notices.models import Notice
from townhall.notices.services import notice_publish, notice_withdraw
from townhall.notify.models import AlertTopic
from townhall.places.models import Place

pytestmark = pytest.mark.django_db


@pytest.fixture
def near_home(db: None) -> Place:
    return Place.objects.create(
        property_id="P1",
        address="1 Main Street",
        postcode="02139",
        lat=HOME[0],
        long=HOME[1],
        search_text="1 main street",
    )


@pytest.fixture
def far_away(db: None) -> Place:
    return Place.objects.create(
        property_id="P2",
        address="9 Far Road",
        postcode="02140",
        lat=42.41,
        long=-71.19,
        search_text="9 far road",
    )


def test_published_notices_show_and_drafts_do_not(client: Client, roadworks: AlertTopic) -> None:
    draft = road_works_draft(roadworks, title="Secret draft works")
    assert "Secret draft works" not in client.get("/notices/").content.decode()
    assert client.get(f"/notices/{draft.pk}/").status_code == 404
    assert "Secret draft works" not in client.get("/").content.decode()
    notice_publish(draft.pk)
    page = client.get("/notices/").content.decode()
    assert "Secret draft works" in page
    assert "Secret draft works" in client.get("/").content.decode()
    detail = client.get(f"/notices/{draft.pk}/")
    assert detail.status_code == 200
    assert "Use Oak Avenue instead." in detail.content.decode()
    assert 'id="code-form"' not in detail.content.decode()  # no code check on road works
    notice_withdraw(draft.pk)
    assert "Secret draft works" not in client.get("/notices/").content.decode()
    assert client.get(f"/notices/{draft.pk}/").status_code == 404


def test_notices_near_an_address(
    client: Client, roadworks: AlertTopic, near_home: Place, far_away: Place
) -> None:
    notice_publish(road_works_draft(roadworks).pk)
    found = client.get("/notices/", {"q": "1 Main Street"}).content.decode()
    assert f"/notices/near/{near_home.pk}/" in found
    assert "Main Street closed" in client.get(f"/notices/near/{near_home.pk}/").content.decode()
    away = client.get(f"/notices/near/{far_away.pk}/").content.decode()
    assert "Main Street closed" not in away
    assert "no notices for this address" in away
    assert client.get("/notices/near/999999/").status_code == 404
    assert client.get("/notices/", {"q": ""}).status_code == 400
    assert client.get("/notices/", {"q": "x" * 500}).status_code == 400


def test_spanish_notice(client: Client, roadworks: AlertTopic) -> None:
    notice = notice_publish(road_works_draft(roadworks).pk)
    page = client.get(f"/notices/{notice.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Calle Mayor cerrada" in page
    assert "Obras en la calzada" in page  # the kind, translated


def test_the_code_check_answers_affected_or_not(client: Client, recall: Notice) -> None:
    url = f"/notices/{recall.pk}/"
    page = client.get(url).content.decode()
    assert 'id="code-form"' in page and "Smooth Peanut Butter 340 g" in page
    hit = client.post(url, {"code": "ab 123-45"})
    assert hit.status_code == 200
    body = hit.content.decode()
    assert "Code AB12345 is in this recall: your product is affected." in body
    assert "Return it to the shop for a full refund." in body
    miss = client.post(url, {"code": "ZZ999"}).content.decode()
    assert "Code ZZ999 is not in this recall: your product is not affected." in miss
    es = client.post(url, {"code": "ab12346"}, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "No lo coma" in es and "Crema de cacahuete" in es


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Enter the batch or lot code printed on the product"),
        ("A" * 65, "That is too long for a batch code"),
        ("A" * 100_000, "That is too long for a batch code"),
        ("<script>alert(1)</script>", "A batch code has only letters and numbers"),
        ("AB\x01", "A batch code has only letters and numbers"),
        ("AB\x00", "Null characters are not allowed"),
    ],
)
def test_garbage_codes_get_a_clear_400(
    client: Client, recall: Notice, code: str, message: str
) -> None:
    response = client.post(f"/notices/{recall.pk}/", {"code": code})
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert "There is a problem" in body
    assert "<script>alert(1)</script>" not in body


def test_a_post_to_a_notice_that_is_no_recall_checks_nothing(
    client: Client, roadworks: AlertTopic
) -> None:
    notice = notice_publish(road_works_draft(roadworks).pk)
    response = client.post(f"/notices/{notice.pk}/", {"code": "AB12345"})
    assert response.status_code == 200
    assert "in this recall" not in response.content.decode()


def test_the_check_is_rate_limited(client: Client, recall: Notice, settings: Any) -> None:
    settings.TOWNHALL_RATE_LIMITS_ENABLED = True
    settings.TOWNHALL_RATE_LIMITS = {**settings.TOWNHALL_RATE_LIMITS, "notice_check": "3/minute"}
    url = f"/notices/{recall.pk}/"
    codes = [client.post(url, {"code": f"AB{n}"}).status_code for n in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.get(url).status_code == 200  # reading the notice is not counted


def test_the_assistant_finds_notices_by_address(
    roadworks: AlertTopic, near_home: Place, far_away: Place
) -> None:
    from townhall.notices.selectors import notices_near_address

    notice_publish(road_works_draft(roadworks).pk)
    found = notices_near_address("1 main st", topics=["roadworks"])
    assert found is not None
    assert (found[0], [n.title for n in found[1]]) == ("1 Main Street", ["Main Street closed"])
    far = notices_near_address("9 Far Road")
    assert far is not None and far[1] == []
    assert notices_near_address("nowhere at all 123456") is None
