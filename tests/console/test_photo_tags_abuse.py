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
from tests.photo_fakes import FakeVision, photo_vision
from townhall.cases.models import CasePhoto
from townhall.cases.services import case_open
from townhall.cases.tracking import track_path
from townhall.vision.types import TagGuess

__all__ = ["photo_vision"]

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
