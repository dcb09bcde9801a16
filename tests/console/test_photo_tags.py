"""Issue 20 in the console: a case's photo tags on its page ("Photo looks like
(automatic)"), the words and the photo together in the triage box, and the queues' photo
tag filter. Staff only: tests/console/test_photo_tags_abuse.py checks the public side."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile

from tests.console.conftest import signed_in
from tests.photo_fakes import MATTRESS, FakeVision, fly_tipping, photo_vision
from townhall.cases.models import CasePhoto
from townhall.cases.services import case_open
from townhall.intake.messages import IncomingMessage, Sender
from townhall.intake.models import ReviewStatus, TriageReview
from townhall.intake.services import intake_accept
from townhall.vision.types import TagGuess

__all__ = ["fly_tipping", "photo_vision"]

pytestmark = pytest.mark.django_db


def _photo(case: Any) -> CasePhoto:
    photo = CasePhoto(case=case, content_type="image/jpeg", width=1, height=1, size=4)
    photo.file.save("p.jpg", ContentFile(b"\xff\xd8\xff\xd9"))
    return photo


@pytest.fixture
def unsure(staff: dict[str, Any], settings: Any, pothole: Any) -> Any:
    """A message no classifier could place, filed under pothole for triage, with a photo;
    the classifier's suggestions: pothole 0.40, no heat 0.30."""
    settings.TOWNHALL_INTAKE_FALLBACK_SERVICE = "pothole"
    result = intake_accept(
        IncomingMessage(channel="social", sender=Sender(handle="x:@jo"), text="Look at this")
    )
    case = result.case
    assert case is not None
    TriageReview.objects.filter(case=case).update(
        suggestions=[["pothole", 0.4], ["no_heat", 0.3]], confidence=0.4
    )
    _photo(case)
    return case


def test_the_case_page_shows_the_photo_tags_labelled_automatic(
    staff: dict[str, Any], pothole: Any, photo_vision: FakeVision
) -> None:
    case = case_open(service_type=pothole, channel="web", answers={"size": "small"})
    _photo(case)
    photo_vision.stored[case.pk] = [TagGuess("bag", "Bin bag", 0.41, None), MATTRESS]
    page = signed_in(staff["caseworker"]).get(f"/console/cases/{case.pk}/").content.decode()
    assert "Photo looks like (automatic):</strong> Mattress (0.83), Bin bag (0.41)" in page
    other = case_open(service_type=pothole, channel="web", answers={"size": "small"})
    page = signed_in(staff["caseworker"]).get(f"/console/cases/{other.pk}/").content.decode()
    assert "Photo looks like" not in page  # no photo, no tags


def test_triage_shows_the_photo_beside_the_words_and_both_when_they_disagree(
    staff: dict[str, Any], unsure: Any, fly_tipping: Any, photo_vision: FakeVision
) -> None:
    photo_vision.stored[unsure.pk] = [MATTRESS]  # mattress -> fly-tipping 0.83
    keisha = signed_in(staff["caseworker"])
    page = keisha.get(f"/console/cases/{unsure.pk}/").content.decode()
    assert "Needs triage" in page and "Words and photo together" in page
    rows = page.split("th-triage-photo")[1].split("</table>")[0]
    # fly-tipping 1-(1-0)(1-0.83) = 0.83 first, then pothole 0.40 and no heat 0.30 (words only)
    assert rows.index("Fly-tipping") < rows.index("Pothole") < rows.index("No heat")
    assert "<strong>0.83</strong>" in rows and "<strong>0.40</strong>" in rows
    assert "(photo: Mattress)" in rows
    assert "The words and the photo point to different services." in page
    moved = keisha.post(f"/console/cases/{unsure.pk}/triage/", {"service": "fly_tipping"})
    assert moved.status_code == 302
    unsure.refresh_from_db()
    assert unsure.service_type.code == "fly_tipping"
    assert TriageReview.objects.get(case=unsure).status == ReviewStatus.CORRECTED


def test_when_the_photo_agrees_the_two_add_up(
    staff: dict[str, Any], unsure: Any, photo_vision: FakeVision
) -> None:
    photo_vision.stored[unsure.pk] = [TagGuess("pothole", "Pothole", 0.5, "pothole")]
    page = signed_in(staff["caseworker"]).get(f"/console/cases/{unsure.pk}/").content.decode()
    rows = page.split("th-triage-photo")[1].split("</table>")[0]
    assert "<strong>0.70</strong>" in rows  # 1 - 0.6 * 0.5
    assert "point to different services" not in page


def test_triage_without_photo_tags_is_as_before(
    staff: dict[str, Any], unsure: Any, photo_vision: FakeVision
) -> None:
    page = signed_in(staff["caseworker"]).get(f"/console/cases/{unsure.pk}/").content.decode()
    assert "Needs triage" in page
    assert "Words and photo together" not in page and "Photo looks like" not in page


def test_the_queues_filter_by_photo_tag(
    staff: dict[str, Any], pothole: Any, photo_vision: FakeVision
) -> None:
    tagged = case_open(service_type=pothole, channel="web", answers={"size": "small"})
    plain = case_open(service_type=pothole, channel="web", answers={"size": "small"})
    photo_vision.stored[tagged.pk] = [MATTRESS]
    keisha = signed_in(staff["caseworker"])
    form = keisha.get("/console/queues/all/").content.decode()
    assert 'name="photo_tag"' in form and '<option value="mattress">Mattress</option>' in form
    page = keisha.get("/console/queues/all/", {"photo_tag": "mattress"}).content.decode()
    assert tagged.reference in page and plain.reference not in page
    assert (
        tagged.reference
        not in keisha.get("/console/queues/all/", {"photo_tag": "graffiti"}).content.decode()
    )
    bad = keisha.get("/console/queues/all/", {"photo_tag": "<script>"})
    assert bad.status_code == 400
    assert plain.reference in bad.content.decode()  # a bad filter filters nothing


def test_another_department_sees_no_tagged_case_of_ours(
    staff: dict[str, Any], pothole: Any, photo_vision: FakeVision
) -> None:
    tagged = case_open(service_type=pothole, channel="web", answers={"size": "small"})
    photo_vision.stored[tagged.pk] = [MATTRESS]
    daniel = signed_in(staff["other_caseworker"])
    page = daniel.get("/console/queues/all/", {"photo_tag": "mattress"}).content.decode()
    assert tagged.reference not in page
