"""The resident's journey through the portal with the Django test client: find, report
(questions, place, photos, contact), nearby duplicates and "me too", confirmation,
tracking by the private link, updates and "not fixed"."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from tests.cases.test_photos import jpeg
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEventKind, CaseFollower, CasePhoto
from townhall.cases.services import case_open, case_transition
from townhall.places.models import Place
from townhall.portal import finder
from townhall.portal.links import track_token

pytestmark = pytest.mark.django_db

ELM = (42.3601, -71.0942)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def places(town: Any) -> list[Place]:
    rows = [
        ("P1", "12 Elm Street", "02139", ELM[0], ELM[1]),
        ("P2", "14 Elm Street", "02139", ELM[0] + 0.0002, ELM[1]),
        ("P3", "9 Maple Avenue", "02140", 42.3701, -71.1042),
    ]
    return [
        Place.objects.create(
            property_id=pid, address=a, postcode=pc, lat=lat, long=long, search_text=a.lower()
        )
        for pid, a, pc, lat, long in rows
    ]


def _pothole_at(pothole: Any, lat: float, long: float, text: str = "Hole") -> Case:
    return case_open(
        service_type=pothole,
        channel="web",
        answers={"size": "small"},
        description=text,
        lat=lat,
        long=long,
    )


# --- finding a service ---------------------------------------------------------------------


def test_the_finder_understands_everyday_words_on_the_demo_catalogue() -> None:
    spec = json.loads(
        (Path(__file__).parents[2] / "townhall/demo/data/town.json").read_text("utf-8")
    )
    groups = {g["code"]: g["name"] for g in spec["groups"]}
    index = finder.index_build(
        (s["code"], s["name"], s["keywords"], groups[s["group"]], s["description"])
        for s in spec["service_types"]
    )

    def top(query: str, n: int = 1) -> list[str]:
        return [f.code for f in finder.search(query, index, limit=n)]

    assert "illegal_dumping" in top("rubbish on the pavement", 2)
    assert top("fly-tipping") == ["illegal_dumping"]
    assert top("potholle in my road") == ["pothole"]  # a spelling slip
    assert top("street lamp not working") == ["streetlight_out"]
    assert top("rats in the garden") == ["rodent_sighting"]
    assert top("my bin was not collected") == ["missed_trash"]
    assert top("graffitti") == ["graffiti"]
    assert top("xyzzy") == []


def test_search_page_lists_matching_services_and_handles_nonsense(
    client: Client, town: Any
) -> None:
    html = client.get("/services/", {"q": "pothole"}).content.decode()
    assert "/report/pothole/" in html
    response = client.get("/services/", {"q": "zzqx"})
    assert response.status_code == 200
    assert "No service matches those words" in response.content.decode()
    assert client.get("/services/", {"q": ""}).status_code == 400
    assert client.get("/services/", {"q": "x" * 5000}).status_code == 400


def test_home_shows_popular_services_first(client: Client, pothole: Any) -> None:
    _pothole_at(pothole, *ELM)
    html = client.get("/").content.decode()
    popular = html.index("Popular")
    assert popular < html.index("/report/pothole/") < html.index("All services")


# --- where ---------------------------------------------------------------------------------


def test_the_where_step_finds_addresses_from_the_gazetteer(
    client: Client, places: list[Place]
) -> None:
    response = client.get("/report/pothole/")
    assert response.status_code == 200
    assert "Where is the problem?" in response.content.decode()

    several = client.get("/report/pothole/", {"address": "Elm Street"}).content.decode()
    assert "12 Elm Street" in several and "14 Elm Street" in several
    assert f"?place={places[0].pk}" in several

    one = client.get("/report/pothole/", {"address": "9 maple av"}).content.decode()
    assert "Tell us about the problem" in one and "9 Maple Avenue" in one

    none = client.get("/report/pothole/", {"address": "Nowhere Boulevard 999"})
    assert none.status_code == 400
    assert "We could not find that address" in none.content.decode()
    assert "use_words=1" in none.content.decode()


def test_garbage_in_the_where_step_never_breaks_the_page(client: Client, town: Any) -> None:
    for params in (
        {"lat": "abc", "long": "1"},
        {"lat": "91", "long": "0"},
        {"place": "99999999"},
        {"place": "-1"},
        {"address": ""},
        {"address": "x" * 1000},
    ):
        assert client.get("/report/pothole/", params).status_code in {200, 400}, params
    assert client.get("/report/no-such-service/").status_code == 404


def test_a_map_point_shows_open_reports_of_the_same_service_nearby_nearest_first(
    client: Client, pothole: Any, town: Any, places: list[Place]
) -> None:
    far = _pothole_at(pothole, ELM[0] + 0.01, ELM[1], "far away")  # ~1.1 km
    near = _pothole_at(pothole, ELM[0] + 0.0005, ELM[1], "about 55 m")
    nearest = _pothole_at(pothole, ELM[0] + 0.0001, ELM[1], "about 11 m")
    done = _pothole_at(pothole, ELM[0], ELM[1], "fixed already")
    case_transition(case=done, to="in_progress", actor=None)
    case_transition(case=done, to="resolved", actor=None)
    response = client.get("/report/pothole/", {"lat": ELM[0], "long": ELM[1]})
    html = response.content.decode()
    assert "Has someone already reported it?" in html
    assert html.index(nearest.reference) < html.index(near.reference)
    assert far.reference not in html and done.reference not in html
    assert "12 Elm Street" in html  # the nearest address names the point


def test_nearby_reports_are_capped_at_five(client: Client, pothole: Any, town: Any) -> None:
    cases = [_pothole_at(pothole, ELM[0] + i * 0.00005, ELM[1]) for i in range(7)]
    html = client.get("/report/pothole/", {"lat": ELM[0], "long": ELM[1]}).content.decode()
    shown = [c for c in cases if c.reference in html]
    assert shown == cases[:5]


# --- reporting -----------------------------------------------------------------------------


def _post(client: Client, **fields: Any) -> Any:
    data = {"description": "Deep hole by the kerb", "attribute_size": "large"} | fields
    return client.post("/report/pothole/", data)


def test_a_report_with_a_photo_and_email_becomes_a_case_and_a_confirmation(
    client: Client, pothole: Any, media: Path
) -> None:
    photo = SimpleUploadedFile("IMG_1.jpg", jpeg(gps=(42.3605, -71.0945)), "image/jpeg")
    response = _post(
        client,
        lat=ELM[0],
        long=ELM[1],
        address="12 Elm Street",
        address_id="P1",
        attribute_depth_cm="12.5",
        photos=[photo],
        name="Ana Souza",
        email="Ana.Souza@Example.com",
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get()
    assert response["Location"] == f"/requests/{track_token(case)}/sent/"
    assert (case.lat, case.long) == ELM  # the chosen place wins over the photo's
    assert case.answers == {"size": "large", "depth_cm": 12.5}
    assert case.address == "12 Elm Street" and case.address_id == "P1"
    assert case.channel == "web"
    assert case.reporter is not None and case.reporter.display_name == "Ana Souza"
    stored = CasePhoto.objects.get(case=case)
    assert stored.lat == pytest.approx(42.3605, abs=1e-5)
    on_disk = Image.open(io.BytesIO((media / stored.file.name).read_bytes()))
    assert dict(on_disk.getexif()) == {}
    assert "IMG_1" not in stored.file.name
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds[:2] == [CaseEventKind.OPENED, CaseEventKind.PHOTO_ADDED]

    confirmation = client.get(response["Location"]).content.decode()
    assert "Report sent" in confirmation and case.reference in confirmation
    assert case.expected_on is not None
    assert case.expected_on.strftime("%B") in confirmation
    assert "What happens next" in confirmation
    assert f"/requests/{track_token(case)}/" in confirmation


def test_without_a_place_the_photos_location_is_used(client: Client, pothole: Any) -> None:
    photo = SimpleUploadedFile("p.jpg", jpeg(gps=(42.35, -71.08)), "image/jpeg")
    assert _post(client, photos=[photo]).status_code == 302
    case = Case.objects.get()
    assert case.lat == pytest.approx(42.35, abs=1e-5)
    assert case.long == pytest.approx(-71.08, abs=1e-5)


def test_without_a_place_or_a_located_photo_the_form_asks_where(
    client: Client, pothole: Any
) -> None:
    photo = SimpleUploadedFile("p.jpg", jpeg(), "image/jpeg")
    response = _post(client, photos=[photo])
    assert response.status_code == 400
    assert "Tell us where the problem is" in response.content.decode()
    assert not Case.objects.exists()


def test_a_renamed_document_is_a_form_error_and_nothing_is_written(
    client: Client, pothole: Any, media: Path
) -> None:
    fake = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not an image" * 50, "image/jpeg")
    response = _post(client, lat=ELM[0], long=ELM[1], photos=[fake])
    html = response.content.decode()
    assert response.status_code == 400
    assert "photo.jpg is not a photo we can read" in html
    assert "Photos you added" not in html  # nothing good to keep
    assert not Case.objects.exists()
    assert not media.exists() or not any(media.rglob("*.jpg"))


def _kept_tokens(html: str) -> list[str]:
    return re.findall(r'name="kept_photos" type="checkbox" value="([^"]+)"', html)


def test_photos_that_passed_are_kept_while_the_resident_corrects_the_form(
    client: Client, pothole: Any, media: Path
) -> None:
    good = SimpleUploadedFile("garden.jpg", jpeg(gps=(42.35, -71.08)), "image/jpeg")
    bad = SimpleUploadedFile("notes.jpg", b"plain text, not a picture" * 20, "image/jpeg")
    first = _post(client, attribute_size="", photos=[good, bad])  # and no answer to "size"
    html = first.content.decode()
    assert first.status_code == 400
    assert "notes.jpg is not a photo we can read" in html
    assert "Photos you added" in html and "garden.jpg" in html
    [token] = _kept_tokens(html)
    staged = list((media / "staging").iterdir())
    assert len(staged) == 1
    assert dict(Image.open(staged[0]).getexif()) == {}  # kept as checked: EXIF already gone
    thumbnail = client.get(f"/report-photos/{token}/")
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/jpeg"
    assert client.get(f"/report-photos/{token[:-3]}xyz/").status_code == 404

    second = _post(client, kept_photos=[token])
    assert second.status_code == 302, second.content.decode()[:2000]
    case = Case.objects.get()
    photo = CasePhoto.objects.get(case=case)
    assert photo.lat == pytest.approx(42.35, abs=1e-5)
    assert case.lat == pytest.approx(42.35, abs=1e-5)  # no place chosen: the kept photo's
    assert list((media / "staging").iterdir()) == []  # used, so removed


def test_a_kept_photo_the_resident_unticks_is_not_sent_and_is_purged_later(
    client: Client, pothole: Any, media: Path
) -> None:
    from townhall.intake.staging import staged_photos_purge

    good = SimpleUploadedFile("p.jpg", jpeg(), "image/jpeg")
    first = _post(client, lat=ELM[0], long=ELM[1], attribute_size="", photos=[good])
    assert len(_kept_tokens(first.content.decode())) == 1
    assert _post(client, lat=ELM[0], long=ELM[1]).status_code == 302  # box unticked
    assert not CasePhoto.objects.exists()
    assert staged_photos_purge() == 0  # too young to go
    assert staged_photos_purge(now=timezone.now() + timedelta(hours=25)) == 1
    assert list((media / "staging").iterdir()) == []


def test_forged_or_too_many_kept_photos_are_form_errors(
    client: Client, pothole: Any, media: Path
) -> None:
    forged = _post(client, lat=ELM[0], long=ELM[1], kept_photos=["not-a-token"])
    assert forged.status_code == 400
    assert "no longer available" in forged.content.decode()
    five = [SimpleUploadedFile(f"{i}.jpg", jpeg((64, 48)), "image/jpeg") for i in range(5)]
    first = _post(client, lat=ELM[0], long=ELM[1], attribute_size="", photos=five)
    tokens = _kept_tokens(first.content.decode())
    assert len(tokens) == 5
    extra = SimpleUploadedFile("6.jpg", jpeg((64, 48)), "image/jpeg")
    over = _post(client, lat=ELM[0], long=ELM[1], kept_photos=tokens, photos=[extra])
    assert over.status_code == 400
    assert "counting the ones you added before" in over.content.decode()
    assert not Case.objects.exists()


def test_an_oversized_photo_is_a_form_error(client: Client, pothole: Any, settings: Any) -> None:
    settings.TOWNHALL_PHOTO_MAX_BYTES = 20_000
    big = SimpleUploadedFile("big.jpg", jpeg((1600, 1200)) + b"\0" * 30_000, "image/jpeg")
    response = _post(client, lat=ELM[0], long=ELM[1], photos=[big])
    assert response.status_code == 400
    assert "big.jpg is larger than" in response.content.decode()
    assert not Case.objects.exists()


def test_more_than_five_photos_is_a_form_error(client: Client, pothole: Any) -> None:
    photos = [SimpleUploadedFile(f"{i}.jpg", jpeg((64, 48)), "image/jpeg") for i in range(6)]
    response = _post(client, lat=ELM[0], long=ELM[1], photos=photos)
    assert response.status_code == 400
    assert "Add at most 5 photos" in response.content.decode()


def test_answers_are_checked_next_to_their_questions(client: Client, pothole: Any) -> None:
    response = _post(
        client,
        lat=ELM[0],
        long=ELM[1],
        attribute_size="gigantic",
        attribute_depth_cm="deep",
        email="not-an-email",
        phone="12",
        description="",
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Select one of the answers given for" in html  # the unknown list value
    assert "Enter a number, like 3 or 2.5." in html
    assert "Enter an email address like name@example.com." in html
    assert "Enter a phone number like" in html
    assert "Enter a description of the problem" in html
    assert html.count('class="govuk-error-message"') >= 5
    assert not Case.objects.exists()


def test_tampered_location_fields_are_form_errors_not_crashes(client: Client, pothole: Any) -> None:
    response = _post(client, lat="999", long="-71", address="x" * 400)
    assert response.status_code == 400
    assert not Case.objects.exists()


def test_every_datatype_renders_as_its_own_control(client: Client, town: Any) -> None:
    from townhall.catalog.models import AttributeDefinition, ServiceType

    service = ServiceType.objects.get(code="no_heat")
    kinds = ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    for order, kind in enumerate(kinds, 1):
        AttributeDefinition.objects.create(
            service_type=service,
            code=f"q_{kind}",
            datatype=kind,
            required=kind == "string",
            description=f"Question {kind}",
            order=order,
            values=[{"key": "a", "name": "Choice A"}, {"key": "b", "name": "Choice B"}]
            if kind.endswith("list")
            else [],
        )
    from townhall.catalog.selectors import catalog_cache_clear

    catalog_cache_clear()
    html = client.get("/report/no_heat/", {"skip_place": "1"}).content.decode()
    assert 'name="attribute_q_string" type="text"' in html
    assert 'name="attribute_q_number" type="text" value="" inputmode="decimal"' in html
    assert 'name="attribute_q_datetime" type="datetime-local"' in html
    assert '<textarea class="govuk-textarea" id="id_attribute_q_text"' in html
    assert 'type="radio" value="a"' in html and "Choice B" in html
    assert 'name="attribute_q_multivaluelist" type="checkbox" value="b"' in html
    assert html.count("(optional)") >= 5

    response = client.post(
        "/report/no_heat/",
        {
            "description": "Cold flat",
            "address": "Flat 2, 7 Crescent Gardens",
            "attribute_q_string": "Boiler model X",
            "attribute_q_number": "3",
            "attribute_q_datetime": "2026-11-20T18:30",
            "attribute_q_text": "Since last week",
            "attribute_q_singlevaluelist": "b",
            "attribute_q_multivaluelist": ["a", "b"],
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    answers = Case.objects.get().answers
    assert answers["q_number"] == 3 and answers["q_multivaluelist"] == ["a", "b"]
    assert answers["q_datetime"].startswith("2026-11-20T18:30:00")


# --- after reporting -----------------------------------------------------------------------


def test_me_too_follows_the_existing_case_instead_of_filing_a_new_one(
    client: Client, pothole: Any
) -> None:
    case = _pothole_at(pothole, *ELM)
    url = f"/track/{case.reference}/me-too/"  # by reference: never the private link
    page = client.get(url)
    assert page.status_code == 200 and "Add your voice" in page.content.decode()
    response = client.post(url, {"email": "neighbour@example.org"})
    public = f"/track/?reference={case.reference}"
    assert response.status_code == 302 and response["Location"] == public
    assert Case.objects.count() == 1
    follower = CaseFollower.objects.get(case=case)
    # Counted at once; the address follows only once confirmed (docs/security/public-data.md).
    assert follower.via == "me_too" and follower.citizen is None
    assert case.events.filter(kind=CaseEventKind.FOLLOWED, public=True).count() == 1
    client.post(url, {"email": "Neighbour@EXAMPLE.org"})
    assert CaseFollower.objects.filter(case=case).count() == 1  # one voice per session
    Client().post(url, {"email": ""})  # someone else, anonymous: counted
    assert CaseFollower.objects.filter(case=case).count() == 2
    html = client.get(f"/requests/{track_token(case)}/").content.decode()
    assert "2 other residents" in html
    bad = client.post(url, {"email": "nope"})
    assert bad.status_code == 400


def test_the_private_page_shows_photos_and_the_public_lookup_does_not(
    client: Client, pothole: Any
) -> None:
    photo = SimpleUploadedFile("p.jpg", jpeg(), "image/jpeg")
    _post(client, lat=ELM[0], long=ELM[1], photos=[photo])
    case = Case.objects.get()
    token = track_token(case)
    stored = CasePhoto.objects.get()
    private = client.get(f"/requests/{token}/").content.decode()
    assert f"/requests/{token}/photos/{stored.pk}/" in private
    image = client.get(f"/requests/{token}/photos/{stored.pk}/")
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert b"".join(image.streaming_content)[:2] == b"\xff\xd8"
    public = client.get("/track/", {"reference": case.reference}).content.decode()
    assert case.reference in public and "/photos/" not in public
    assert token not in public


def test_a_forged_or_foreign_token_finds_nothing(client: Client, pothole: Any) -> None:
    one, other = _pothole_at(pothole, *ELM), _pothole_at(pothole, *ELM)
    photo = SimpleUploadedFile("p.jpg", jpeg(), "image/jpeg")
    _post(client, lat=ELM[0], long=ELM[1], photos=[photo])
    stored = CasePhoto.objects.get()
    assert client.get(f"/requests/{one.pk}/").status_code == 404
    assert client.get(f"/requests/{one.pk}.forged/").status_code == 404
    assert client.get(f"/requests/{track_token(other)}/photos/{stored.pk}/").status_code == 404


def test_updates_by_email_make_a_follower_once_the_address_is_confirmed(
    client: Client, pothole: Any
) -> None:
    import re

    from townhall.notify.models import Notification

    case = _pothole_at(pothole, *ELM)
    token = track_token(case)
    response = client.post(f"/requests/{token}/follow/", {"email": "me@example.org"})
    assert response.status_code == 302 and response["Location"] == f"/requests/{token}/"
    assert not CaseFollower.objects.exists()  # not before the address is confirmed
    from townhall.notify.secret_links import secret_link_make

    note = Notification.objects.get(kind="follow_confirm", to="me@example.org")
    found = re.search(r"/follow/confirm/([^/\s]+)/", secret_link_make(note))
    assert found is not None
    assert client.post(f"/follow/confirm/{found.group(1)}/").status_code == 302
    assert CaseFollower.objects.get(case=case).via == "subscribed"
    assert client.post(f"/requests/{token}/follow/", {"email": ""}).status_code == 400


def test_not_fixed_reopens_within_the_window_and_reaches_staff(
    client: Client, pothole: Any
) -> None:
    case = _pothole_at(pothole, *ELM)
    case_transition(case=case, to="in_progress", actor=None)
    case_transition(case=case, to="resolved", actor=None, note="Filled")
    token = track_token(case)
    html = client.get(f"/requests/{token}/").content.decode()
    assert "Not fixed?" in html
    assert client.post(f"/requests/{token}/reopen/", {"reason": ""}).status_code == 400
    response = client.post(f"/requests/{token}/reopen/", {"reason": "Still a hole"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.REOPENED
    event = case.events.get(kind=CaseEventKind.REOPENED)
    assert event.content["note"] == "Still a hole" and event.channel == "web"


def test_not_fixed_is_refused_after_the_window(client: Client, pothole: Any) -> None:
    case = _pothole_at(pothole, *ELM)
    case_transition(case=case, to="in_progress", actor=None)
    long_ago = timezone.now() - timedelta(days=60)
    case_transition(case=case, to="resolved", actor=None, now=long_ago)
    token = track_token(case)
    assert "Not fixed?" not in client.get(f"/requests/{token}/").content.decode()
    response = client.post(f"/requests/{token}/reopen/", {"reason": "Still a hole"})
    assert response.status_code == 400
    assert "can no longer be reopened online" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED


# --- query counts --------------------------------------------------------------------------


def test_portal_pages_need_at_most_three_queries(
    client: Client, pothole: Any, django_assert_max_num_queries: Any
) -> None:
    case = _pothole_at(pothole, *ELM)
    token = track_token(case)
    client.get("/")  # the catalogue and popularity caches fill once per process
    client.get("/report/pothole/")
    client.get("/services/", {"q": "pothole"})  # and the finder and knowledge indexes
    for url, params in (
        ("/", {}),
        ("/report/pothole/", {}),
        ("/services/", {"q": "pothole"}),
        (f"/requests/{token}/", {}),
        (f"/requests/{token}/sent/", {}),
    ):
        # A resident's own request also reads where it was forwarded (issue 22).
        with django_assert_max_num_queries(4 if url.startswith("/requests/") else 3):
            assert client.get(url, params).status_code == 200, url


def test_followers_get_the_updates_and_the_reporter_gets_the_private_link(
    client: Client, pothole: Any, caseworker: Any, settings: Any
) -> None:
    from townhall.cases.services import case_note_add
    from townhall.notify.models import Notification

    settings.TOWNHALL_PUBLIC_URL = "https://council.example"
    _post(client, lat=ELM[0], long=ELM[1], email="reporter@example.org")
    case = Case.objects.get()
    token = track_token(case)
    neighbour = Client()
    neighbour.post(f"/track/{case.reference}/me-too/", {"email": "neighbour@example.org"})
    from townhall.notify.secret_links import secret_link_make

    confirm = secret_link_make(Notification.objects.get(kind="follow_confirm"))
    neighbour.post(confirm[confirm.index("/follow/confirm/") :].split()[0])
    Client().post(f"/track/{case.reference}/me-too/", {"email": ""})  # nobody to tell
    case_note_add(case=case, text="Crew booked for Tuesday", actor=caseworker, public=True)
    sent = {n.to: n.body for n in Notification.objects.filter(kind="public_update")}
    assert set(sent) == {"reporter@example.org", "neighbour@example.org"}
    assert f"https://council.example/requests/{token}/" in sent["reporter@example.org"]
    assert token not in sent["neighbour@example.org"]
    assert case.reference in sent["neighbour@example.org"]
    assert "Crew booked for Tuesday" in sent["neighbour@example.org"]


def test_the_report_page_weighs_under_150_kb_with_its_css_and_js(
    client: Client, pothole: Any
) -> None:
    import re

    from django.contrib.staticfiles import finders

    for url in ("/report/pothole/", f"/report/pothole/?lat={ELM[0]}&long={ELM[1]}"):
        html = client.get(url).content
        assets = re.findall(rb'(?:href|src)="/static/([^"]+\.(?:css|js))"', html)
        assert assets  # the stylesheet at least
        total = len(html) + sum(Path(str(finders.find(a.decode()))).stat().st_size for a in assets)
        assert total < 150_000, (url, total)


def test_staff_see_the_photos_in_the_case_admin_and_residents_do_not(
    client: Client, admin_client: Client, pothole: Any
) -> None:
    _post(
        client, lat=ELM[0], long=ELM[1], photos=[SimpleUploadedFile("p.jpg", jpeg(), "image/jpeg")]
    )
    case, photo = Case.objects.get(), CasePhoto.objects.get()
    page = admin_client.get(f"/admin/cases/case/{case.pk}/change/").content.decode()
    assert f"/admin/cases/case/photo/{photo.pk}/" in page
    image = admin_client.get(f"/admin/cases/case/photo/{photo.pk}/")
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert client.get(f"/admin/cases/case/photo/{photo.pk}/").status_code == 302  # to sign-in
    assert client.get(f"/media/{photo.file.name}").status_code == 404


def test_a_report_with_contact_details_is_acknowledged_by_email_with_its_private_link(
    client: Client, pothole: Any, settings: Any
) -> None:
    from townhall.cases.services import case_acknowledge_pending
    from townhall.notify.models import Notification

    settings.TOWNHALL_PUBLIC_URL = "https://council.example"
    _post(client, lat=ELM[0], long=ELM[1], email="ack@example.org")
    case_acknowledge_pending()
    case = Case.objects.get()
    note = Notification.objects.get(kind="acknowledged", to="ack@example.org")
    assert case.reference in note.body
    assert f"https://council.example/requests/{track_token(case)}/" in note.body
    assert case.expected_on is not None and str(case.expected_on.day) in note.body
