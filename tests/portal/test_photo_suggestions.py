"""Issue 20 in the portal: "Add these photos" checks, keeps and tags the photos in its own
request and may suggest another service ("this photo looks like..."); the resident decides.
The switch carries what was typed and the photos; a switch that was not offered is a 400."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.cases.test_photos import jpeg
from tests.photo_fakes import FakeVision, cat_jpeg, fly_tipping, photo_vision, real_cat_tag
from townhall.cases.models import Case, CasePhoto
from townhall.catalog.selectors import catalog_cache_clear
from townhall.intake.photo_suggestions import photo_offer
from townhall.vision.types import TagGuess

__all__ = ["fly_tipping", "photo_vision", "real_cat_tag"]

pytestmark = pytest.mark.django_db

ELM = (42.3601, -71.0942)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("sofa.jpg", jpeg(), "image/jpeg")


def _add(client: Client, code: str = "pothole", **fields: Any) -> Any:
    data = {"description": "Old mattress by the kerb", "add_photos": "1"} | fields
    data.setdefault("photos", [_photo()])
    return client.post(f"/report/{code}/", data)


def _switch_token(html: str) -> str:
    found = re.search(r'name="switch_to" value="([^"]+)"', html)
    assert found, html[:3000]
    return found.group(1)


def _kept(html: str) -> list[str]:
    return re.findall(r'name="kept_photos" type="checkbox" value="([^"]+)"', html)


def test_an_added_photo_that_looks_like_another_service_gets_a_suggestion(
    client: Client, pothole: Any, fly_tipping: Any, photo_vision: FakeVision
) -> None:
    response = _add(client, lat=ELM[0], long=ELM[1])
    html = response.content.decode()
    assert response.status_code == 200, html[:2000]
    assert photo_vision.tagged == 1
    assert "This photo looks like it shows: Mattress." in html
    assert "Report it as “Fly-tipping”" in html
    assert 'formaction="/report/fly_tipping/"' in html
    assert 'role="region" aria-labelledby="photo-suggestion-heading"' in html
    assert "automatic guess and can be wrong" in html
    # nothing was sent; what was typed and the photo are kept, with no "errors" for the rest
    assert not Case.objects.exists()
    assert "Old mattress by the kerb" in html
    assert len(_kept(html)) == 1
    assert "There is a problem" not in html
    assert "They will be sent with your report" in html


def test_the_suggestion_is_in_spanish_for_a_spanish_resident(
    client: Client, pothole: Any, fly_tipping: Any, photo_vision: FakeVision
) -> None:
    client.cookies["django_language"] = "es"
    html = _add(client, lat=ELM[0], long=ELM[1], HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Esta foto parece mostrar: Mattress." in html
    assert "Es una suposición automática" in html


def test_taking_the_suggestion_keeps_the_report_and_files_it_under_the_new_service(
    client: Client, pothole: Any, fly_tipping: Any, photo_vision: FakeVision
) -> None:
    html = _add(client, lat=ELM[0], long=ELM[1], email="ana@example.com").content.decode()
    token, kept = _switch_token(html), _kept(html)
    switched = client.post(
        "/report/fly_tipping/",
        {
            "switch_to": token,
            "description": "Old mattress by the kerb",
            "lat": ELM[0],
            "long": ELM[1],
            "email": "ana@example.com",
            "kept_photos": kept,
            "attribute_size": "large",  # the old service's answer: dropped
        },
    )
    page = switched.content.decode()
    assert switched.status_code == 200, page[:2000]
    assert "Kind of problem changed" in page
    assert "Your report is now about “Fly-tipping”" in page
    assert 'action="/report/fly_tipping/"' in page
    assert "Old mattress by the kerb" in page and "ana@example.com" in page
    assert _kept(page) == kept
    assert "How big is it?" not in page  # pothole's question is not asked of fly-tipping
    assert not Case.objects.exists()  # the resident still has to send it
    sent = client.post(
        "/report/fly_tipping/",
        {"description": "Old mattress by the kerb", "lat": ELM[0], "long": ELM[1]}
        | {"kept_photos": kept},
    )
    assert sent.status_code == 302, sent.content.decode()[:2000]
    case = Case.objects.get()
    assert case.service_type.code == "fly_tipping"
    assert CasePhoto.objects.filter(case=case).count() == 1
    assert photo_vision.tagged == 1  # sending tags nothing


@pytest.mark.parametrize("how", ["other_service", "garbage", "empty_dict"])
def test_a_switch_that_was_not_offered_is_refused_with_a_400(
    client: Client,
    pothole: Any,
    fly_tipping: Any,
    no_heat: Any,
    photo_vision: FakeVision,
    how: str,
) -> None:
    from django.core import signing

    token = _switch_token(_add(client, lat=ELM[0], long=ELM[1]).content.decode())
    target = "/report/fly_tipping/"
    if how == "other_service":  # the offer was fly-tipping, posted to another service
        target = "/report/no_heat/"
    elif how == "garbage":
        token = token[:-4] + "abcd"
    else:
        token = signing.dumps({}, salt="townhall.intake.photo-switch")
    response = client.post(target, {"switch_to": token, "description": "x"})
    assert response.status_code == 400
    assert "We could not change the kind of problem" in response.content.decode()
    assert not Case.objects.exists()


def test_no_suggestion_for_the_service_already_chosen(
    client: Client, pothole: Any, fly_tipping: Any, photo_vision: FakeVision
) -> None:
    photo_vision.tags = [TagGuess("pothole", "Pothole", 0.9, "pothole")]
    html = _add(client, lat=ELM[0], long=ELM[1]).content.decode()
    assert photo_vision.tagged == 1
    assert "switch_to" not in html and "looks like" not in html


def test_no_suggestion_for_a_service_that_is_not_taking_requests(
    client: Client, pothole: Any, fly_tipping: Any, photo_vision: FakeVision
) -> None:
    fly_tipping.active = False
    fly_tipping.save()
    catalog_cache_clear()
    html = _add(client, lat=ELM[0], long=ELM[1]).content.decode()
    assert "switch_to" not in html and "looks like" not in html
    assert photo_offer([photo_vision.tags[0]], current="pothole") is None


def test_no_suggestion_when_the_photo_maps_to_nothing_or_tagging_fails(
    client: Client, pothole: Any, fly_tipping: Any, photo_vision: FakeVision, monkeypatch: Any
) -> None:
    photo_vision.tags = [TagGuess("cat", "Cat", 0.99, None)]
    assert "looks like" not in _add(client, lat=ELM[0], long=ELM[1]).content.decode()

    def broken(data: bytes) -> list[TagGuess]:
        raise RuntimeError("model file missing")

    import townhall.vision.services as vision_services

    monkeypatch.setattr(vision_services, "tag_image", broken)
    response = _add(client, lat=ELM[0], long=ELM[1])
    assert response.status_code == 200
    assert "looks like" not in response.content.decode()
    assert len(_kept(response.content.decode())) == 1  # the photo is still kept


def test_no_photo_no_suggestion_and_add_without_a_file_sends_the_report(
    client: Client, pothole: Any, fly_tipping: Any, photo_vision: FakeVision
) -> None:
    page = client.get(f"/report/pothole/?lat={ELM[0]}&long={ELM[1]}").content.decode()
    assert "Add these photos" in page and "looks like" not in page
    # Enter in a contact field "presses" the first button; with no photo chosen it sends
    response = client.post(
        "/report/pothole/",
        {
            "description": "Deep hole",
            "attribute_size": "large",
            "lat": ELM[0],
            "long": ELM[1],
            "add_photos": "1",
        },
    )
    assert response.status_code == 302
    assert photo_vision.tagged == 0


def test_a_bad_file_added_is_a_photo_error_and_no_suggestion(
    client: Client, pothole: Any, fly_tipping: Any, photo_vision: FakeVision
) -> None:
    fake = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not an image" * 50, "image/jpeg")
    response = _add(client, lat=ELM[0], long=ELM[1], photos=[fake])
    html = response.content.decode()
    assert response.status_code == 400
    assert "photo.jpg is not a photo we can read" in html
    assert "looks like" not in html and photo_vision.tagged == 0
    assert "Enter a description" not in html


def test_sending_a_report_with_photos_tags_nothing(
    client: Client, pothole: Any, fly_tipping: Any, photo_vision: FakeVision
) -> None:
    response = client.post(
        "/report/pothole/",
        {"description": "Hole", "attribute_size": "large", "lat": ELM[0], "long": ELM[1]}
        | {"photos": [_photo()]},
    )
    assert response.status_code == 302
    assert photo_vision.tagged == 0


def test_with_the_real_recognition_a_cat_photo_suggests_its_service(
    client: Client, pothole: Any, real_cat_tag: Any
) -> None:
    photo = SimpleUploadedFile("cat.jpg", cat_jpeg(), "image/jpeg")
    html = _add(client, lat=ELM[0], long=ELM[1], photos=[photo]).content.decode()
    assert "This photo looks like it shows: Cat." in html
    assert 'formaction="/report/fly_tipping/"' in html
    plain = SimpleUploadedFile("p.jpg", jpeg(), "image/jpeg")  # a flat test image: no tag
    assert (
        "looks like" not in _add(client, lat=ELM[0], long=ELM[1], photos=[plain]).content.decode()
    )
