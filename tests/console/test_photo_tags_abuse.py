"""Photo tags are for staff only (issue 20): a case whose photos are tagged shows none of
the tag words on the public case page, the resident's tracking page, the public reports
list or Open311's GET requests (json and xml), and none of those pages even asks vision for
them; the console, for comparison, does show them."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from tests.console.conftest import signed_in
from tests.photo_fakes import FakeVision, cat_jpeg, fly_tipping, photo_vision, real_cat_tag
from townhall.cases.models import CasePhoto
from townhall.cases.services import case_open
from townhall.cases.tracking import track_path
from townhall.vision.types import TagGuess

__all__ = ["fly_tipping", "photo_vision", "real_cat_tag"]

pytestmark = pytest.mark.django_db

WORDS = ("quixotic", "zanzibar")  # in the tags only, nowhere else in Townhall


class Spy(FakeVision):
    calls: int = 0

    def case_tags(self, case: Any) -> list[TagGuess]:
        Spy.calls += 1
        return super().case_tags(case)


def test_tag_words_never_reach_a_public_page_or_the_open311_api(
    staff: dict[str, Any], pothole: Any, photo_vision: FakeVision, monkeypatch: Any
) -> None:
    case = case_open(
        service_type=pothole,
        channel="web",
        answers={"size": "small"},
        description="Something dumped by the kerb",
        lat=42.3601,
        long=-71.0942,
    )
    for name in ("a.jpg", "b.jpg"):
        photo = CasePhoto(case=case, content_type="image/jpeg", width=1, height=1, size=4)
        photo.file.save(name, ContentFile(b"\xff\xd8\xff\xd9"))
    photo_vision.stored[case.pk] = [
        TagGuess("quixotic_mattress", "Quixotic mattress", 0.91, "pothole"),
        TagGuess("zanzibar_sofa", "Zanzibar sofa", 0.55, None),
    ]
    import townhall.vision.selectors as vision_selectors

    spy = Spy(stored=photo_vision.stored)
    Spy.calls = 0
    monkeypatch.setattr(vision_selectors, "case_tags", spy.case_tags)

    public = Client()
    pages = {
        "public case page": public.get("/track/", {"reference": case.reference}),
        "tracking page": public.get(track_path(case)),
        "reports list": public.get("/reports/"),
        "open311 json": public.get("/open311/v2/requests.json"),
        "open311 xml": public.get("/open311/v2/requests.xml"),
        "open311 one json": public.get(f"/open311/v2/requests/{case.reference}.json"),
        "open311 one xml": public.get(f"/open311/v2/requests/{case.reference}.xml"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, (name, response.status_code)
        body = response.content.decode().lower()
        assert case.reference.lower() in body or name == "reports list", name
        for word in WORDS:
            assert word not in body, (name, word)
    assert Spy.calls == 0  # no public page asked for the tags at all
    staff_page = signed_in(staff["caseworker"]).get(f"/console/cases/{case.pk}/")
    assert "Quixotic mattress" in staff_page.content.decode()
    assert Spy.calls == 1


def test_with_the_real_recognition_the_tags_stay_in_the_console(
    staff: dict[str, Any], pothole: Any, real_cat_tag: Any, settings: Any, tmp_path: Any
) -> None:
    """A real cat photo on a case, tagged by vision's own task service: the console shows
    and filters by it; no public page or Open311 response has the tag's (unusual) label."""
    from townhall.cases.photos import photo_clean
    from townhall.cases.services import case_photos_add
    from townhall.vision.services import case_photo_tag, vision_cache_clear

    settings.MEDIA_ROOT = tmp_path / "media"
    real_cat_tag.label = "Quixotic zanzibar cat"
    real_cat_tag.save()
    vision_cache_clear()
    case = case_open(
        service_type=pothole, channel="web", answers={"size": "small"}, description="Look"
    )
    (photo,) = case_photos_add(case=case, photos=[photo_clean(cat_jpeg(), filename="c.jpg")])
    assert [t.tag for t in case_photo_tag(photo.pk)] == ["cat"]
    keisha = signed_in(staff["caseworker"])
    page = keisha.get(f"/console/cases/{case.pk}/").content.decode()
    assert "Photo looks like (automatic):</strong> Quixotic zanzibar cat (" in page
    listed = keisha.get("/console/queues/all/", {"photo_tag": "cat"}).content.decode()
    assert case.reference in listed
    public = Client()
    for url in (
        f"/track/?reference={case.reference}",
        track_path(case),
        "/reports/",
        "/open311/v2/requests.json",
        "/open311/v2/requests.xml",
        f"/open311/v2/requests/{case.reference}.json",
        f"/open311/v2/requests/{case.reference}.xml",
    ):
        response = public.get(url)
        assert response.status_code == 200, url
        body = response.content.decode().lower()
        assert "quixotic" not in body and "zanzibar" not in body, url
