"""Apply after a check, through the portal's pages: check -> Apply -> application ->
send -> pay / book, with no answer in any URL, and every misuse a page, never a 500."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.appointments.conftest import sign_in
from tests.intake.applying import ELIGIBLE, NOT_ELIGIBLE, PDF, council, grant, planning
from townhall.appointments.models import MeetingService
from townhall.cases.models import Case
from townhall.payments.models import Fee, FeeKind, Payment

__all__ = ["council", "grant", "planning"]
pytestmark = pytest.mark.django_db
ENERGY = "/check/energy_subsidy/"


@pytest.fixture(autouse=True)
def june() -> Iterator[Any]:
    with time_machine.travel("2026-06-01 12:00Z", tick=False) as traveller:
        yield traveller


def text(response: Any) -> str:
    return " ".join(response.content.decode().split())


def checked(client: Client, answers: dict[str, str] = ELIGIBLE) -> str:
    return text(client.post(ENERGY, answers, follow=True))


def applied(client: Client) -> str:
    response = client.post("/apply/start/", {"programme": "energy_subsidy"})
    assert response.status_code == 302, text(response)
    url: str = response["Location"]
    assert re.fullmatch(r"/apply/[\w:.-]+/", url)
    return url


def test_the_whole_flow_check_apply_send_pay_and_book(client: Client, grant: Any) -> None:
    Fee.objects.create(
        name="File fee", service_type=grant.service_type, kind=FeeKind.FIXED, amount_minor=1500
    )
    MeetingService.objects.create(service_type=grant.service_type, programme="energy_subsidy")
    sign_in(client, "sarah@example.org")
    page = checked(client)
    assert 'action="/apply/start/"' in page and ">Apply</button>" in page
    url = applied(client)
    for secret in ("45000", "45,000", "1975", "insulation", "sarah"):
        assert secret not in url
    page = text(client.get(url))
    assert "Apply: Home energy renovation grant" in page
    assert "How many people live in your household?" in page and "$45,000" in page
    assert "The installer&#x27;s written quote" in page and "(optional)" in page
    assert "$15.00" in page and "choose a time" in page
    assert 'enctype="multipart/form-data"' in page

    missing = client.post(url, {})
    assert missing.status_code == 400
    assert "There is a problem" in text(missing) and 'href="#doc_quote"' in text(missing)
    assert Case.objects.count() == 0

    sent = client.post(url, {"doc_quote": SimpleUploadedFile("q.pdf", PDF, "application/pdf")})
    assert sent.status_code == 302 and sent["Location"] == url + "done/"
    case = Case.objects.get()
    done = text(client.get(url + "done/"))
    assert case.reference in done
    payment = Payment.objects.get(case=case)
    assert "Pay the fee" in done and "/pay/" in done and payment.reference not in done
    assert "/appointments/book/" in done
    book = re.search(r'href="(/appointments/book/[^"]+/)"', done)
    assert book is not None and client.get(book.group(1)).status_code == 200  # she owns it

    again = client.post(url, {"doc_quote": SimpleUploadedFile("q.pdf", PDF, "application/pdf")})
    assert again.status_code == 302 and again["Location"] == url + "done/"
    assert client.get(url)["Location"] == url + "done/"  # the back button
    assert Case.objects.count() == 1


def test_apply_is_offered_only_when_eligible_and_set_up(client: Client, grant: Any) -> None:
    assert ">Apply</button>" not in checked(client, NOT_ELIGIBLE)
    grant.active = False
    grant.save()
    assert ">Apply</button>" not in checked(client)


def test_a_visitor_who_is_not_signed_in_is_asked_to_sign_in(client: Client, grant: Any) -> None:
    checked(client)
    response = client.post("/apply/start/", {"programme": "energy_subsidy"})
    assert response.status_code == 200 and "Sign in to apply" in text(response)


def test_applying_without_eligible_answers_says_why(client: Client, grant: Any) -> None:
    sign_in(client, "sarah@example.org")
    response = client.post("/apply/start/", {"programme": "energy_subsidy"})  # nothing kept
    assert response.status_code == 400 and "You cannot apply" in text(response)
    checked(client, NOT_ELIGIBLE)
    response = client.post("/apply/start/", {"programme": "energy_subsidy"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "data",
    [{}, {"programme": "no_such"}, {"tree": "nope", "permit": "x"}, {"programme": "x" * 5000}],
)
def test_a_bad_start_is_a_404_never_a_500(client: Client, grant: Any, data: Any) -> None:
    sign_in(client, "sarah@example.org")
    assert client.post("/apply/start/", data).status_code == 404
    assert client.get("/apply/start/").status_code == 405


def test_someone_else_or_an_altered_link_gets_a_404(client: Client, grant: Any) -> None:
    sign_in(client, "sarah@example.org")
    checked(client)
    url = applied(client)
    mallory = sign_in(Client(), "mallory@example.org")
    assert mallory.get(url).status_code == 404
    upload = SimpleUploadedFile("q.pdf", PDF, "application/pdf")
    assert mallory.post(url, {"doc_quote": upload}).status_code == 404
    assert Client().get(url).status_code == 404  # nobody signed in
    token = url.split("/")[2]
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), "nope", "x" * 300):
        assert client.get(f"/apply/{bad}/").status_code == 404
        assert client.get(f"/apply/{bad}/done/").status_code == 404
    assert Case.objects.count() == 0


def test_an_expired_application_says_so(client: Client, grant: Any, june: Any) -> None:
    sign_in(client, "sarah@example.org")
    checked(client)
    url = applied(client)
    june.shift(31 * 60)
    response = client.get(url)
    assert response.status_code == 410 and "This application has expired" in text(response)
    upload = SimpleUploadedFile("q.pdf", PDF, "application/pdf")
    assert client.post(url, {"doc_quote": upload}).status_code == 410
    assert Case.objects.count() == 0


def test_a_wrong_file_gets_the_page_again_with_the_error(client: Client, grant: Any) -> None:
    sign_in(client, "sarah@example.org")
    checked(client)
    url = applied(client)
    response = client.post(
        url,
        {
            "doc_quote": SimpleUploadedFile("q.exe", b"MZ\x90\x00", "application/pdf"),
            "doc_other": SimpleUploadedFile("x.pdf", PDF, "application/pdf"),
        },
    )
    page = text(response)
    assert response.status_code == 400
    assert "must be a PDF or a photo" in page and "Upload only the documents listed" in page
    assert 'aria-describedby="doc_quote-error"' in page
    assert Case.objects.count() == 0


def test_a_permit_applies_from_the_permit_finder(client: Client, planning: Any) -> None:
    sign_in(client, "sarah@example.org")
    client.post("/permits/", {"tree": "home_improvements", "q": "what", "choice": "fence"})
    client.post("/permits/", {"tree": "home_improvements", "q": "fence_height", "choice": "yes"})
    page = text(client.get("/permits/?tree=home_improvements"))
    assert "Apply for: Planning permission" in page
    response = client.post(
        "/apply/start/", {"tree": "home_improvements", "permit": "planning_permission"}
    )
    assert response.status_code == 302
    url = response["Location"]
    page = text(client.get(url))
    assert "A site plan" in page and "Put up a fence or wall" in page
    files = {
        f"doc_permit_{n}": SimpleUploadedFile("a.pdf", PDF, "application/pdf") for n in (1, 2, 3)
    }
    assert client.post(url, files).status_code == 302
    assert Case.objects.get().service_type.code == "planning"
    wrong = client.post("/apply/start/", {"tree": "home_improvements", "permit": "building_permit"})
    assert wrong.status_code == 400
