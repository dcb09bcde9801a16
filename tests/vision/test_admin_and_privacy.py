"""Staff review tags in the admin (confirm, correct, train); residents never see tags."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from tests.vision.conftest import photo_bytes
from tests.vision.test_case_photos import _case, _photos, _variants
from townhall.cases.models import Case
from townhall.portal.links import track_token
from townhall.vision.models import PhotoTag, VisionHead, VisionTag
from townhall.vision.selectors import case_ids_with_tag, case_tags, cases_with_tag, tag_choices
from townhall.vision.services import case_photo_tag, photo_tag_correct

SECRET_LABEL = "Zzyzx furniture"


@pytest.fixture
def tagged(pothole: Any, media: Path) -> Any:
    VisionTag.objects.create(
        code="cat", label=SECRET_LABEL, imagenet_classes=[281, 282, 283, 284, 285]
    )
    case = _case(pothole)
    (photo,) = _photos(case, "cat.jpg")
    case_photo_tag(photo.pk)
    return case, photo


@pytest.mark.parametrize(
    "url",
    [
        "/admin/vision/visiontag/",
        "/admin/vision/phototag/",
        "/admin/vision/visionhead/",
        "/admin/vision/phototag/?tag=cat&source__exact=model",
    ],
)
def test_the_admin_screens_load(admin_client: Client, tagged: Any, url: str) -> None:
    response = admin_client.get(url)
    assert response.status_code == 200


def test_the_tag_set_is_edited_in_admin(admin_client: Client, db: None) -> None:
    tag = VisionTag.objects.get(code="pothole")
    html = admin_client.get(f"/admin/vision/visiontag/{tag.pk}/change/").content.decode()
    assert "Per-tag" not in html and "imagenet_classes" in html
    form = {
        "code": "pothole",
        "label": "Pothole",
        "service_code": "pothole",
        "threshold": "0.3",
        "propose_threshold": "0.8",
        "imagenet_classes": "[]",
        "active": "on",
        "position": "3",
    }
    assert admin_client.post(f"/admin/vision/visiontag/{tag.pk}/change/", form).status_code == 302
    tag.refresh_from_db()
    assert (tag.threshold, tag.propose_threshold) == (0.3, 0.8)
    bad = admin_client.post(f"/admin/vision/visiontag/{tag.pk}/change/", {**form, "threshold": "2"})
    assert bad.status_code == 200 and "less than or equal to 1" in bad.content.decode()


def test_staff_confirm_and_correct_in_admin(admin_client: Client, tagged: Any) -> None:
    _, photo = tagged
    row = PhotoTag.objects.get()
    listing = admin_client.get("/admin/vision/phototag/").content.decode()
    assert f"/admin/cases/case/photo/{photo.pk}/" in listing
    response = admin_client.post(
        "/admin/vision/phototag/", {"action": "confirm", "_selected_action": [row.pk]}
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.confirmed_at is not None
    url = f"/admin/vision/phototag/{row.pk}/correct/"
    assert "What does this photo show?" in admin_client.get(url).content.decode()
    assert admin_client.post(url, {"tag": "nonsense"}).status_code == 200  # form error
    assert admin_client.post(url, {"tag": "fridge"}).status_code == 302
    assert PhotoTag.objects.filter(photo=photo, tag="fridge", source="staff").exists()
    assert admin_client.get("/admin/vision/phototag/999999/correct/").status_code == 404


def test_training_from_the_admin_and_the_command(
    admin_client: Client, pothole: Any, media: Path, admin_user: Any
) -> None:
    response = admin_client.post("/admin/vision/visionhead/train/", follow=True)
    assert "Not enough feedback yet" in response.content.decode()
    with pytest.raises(CommandError):
        call_command("vision_train", stdout=StringIO())
    case = _case(pothole)
    for name, tag in (("cat.jpg", "fallen_tree"), ("coffee.jpg", "none")):
        for data in _variants(name, 2):
            (photo,) = _photos(case, data)
            photo_tag_correct(photo.pk, tag, admin_user)
    response = admin_client.post("/admin/vision/visionhead/train/", follow=True)
    assert "New head trained on 4 photos" in response.content.decode()
    out = StringIO()
    call_command("vision_train", "--no-activate", stdout=out)
    assert "4 photos" in out.getvalue() and "not active" in out.getvalue()
    assert VisionHead.objects.count() == 2 and VisionHead.objects.filter(active=True).count() == 1
    assert admin_client.get("/admin/vision/visionhead/train/").status_code == 405


def test_a_caseworker_sees_only_tags_of_cases_they_may_see(client: Client, tagged: Any) -> None:
    from townhall.people.roles import StaffRole
    from townhall.people.services import staff_user_create

    staff_user_create(username="outsider", role=StaffRole.CASEWORKER, password="pw-long-enough-1")
    client.login(username="outsider", password="pw-long-enough-1")
    response = client.get("/admin/vision/phototag/")
    assert response.status_code == 403  # a caseworker reviews tags in the console, not here


def test_staff_selectors(tagged: Any) -> None:
    case, photo = tagged
    (guess,) = case_tags(case)
    assert guess.tag == "cat" and guess.label == SECRET_LABEL
    assert list(cases_with_tag(Case.objects.all(), "cat")) == [case]
    assert list(cases_with_tag(Case.objects.all(), "fridge")) == []
    assert case.pk in set(case_ids_with_tag("cat"))
    assert ("cat", SECRET_LABEL) in tag_choices()
    assert ("none", "Nothing the council deals with") in tag_choices(with_none=True)
    photo_tag_correct(photo.pk, "none", None)  # staff: nothing there after all
    assert case_tags(case) == []
    assert list(cases_with_tag(Case.objects.all(), "cat")) == []


def test_residents_never_see_tags(client: Client, tagged: Any) -> None:
    case, photo = tagged
    photo_tag_correct(photo.pk, "cat", None)
    page = client.get(f"/requests/{track_token(case)}/").content.decode()
    assert case.reference in page
    assert SECRET_LABEL not in page and "vision" not in page.lower()
    rid = case.reference
    one = client.get(f"/open311/v2/requests/{rid}.json", {"extensions": "true"})
    assert one.status_code == 200
    listed = client.get("/open311/v2/requests.json", {"extensions": "true"})
    for body in (one.content.decode(), listed.content.decode()):
        assert SECRET_LABEL not in body and '"cat"' not in body and "confidence" not in body
    assert client.get("/admin/vision/phototag/").status_code == 302  # to the login page
    assert photo_bytes("cat.jpg")  # the photo itself stays the resident's evidence
