"""Applying after a check (intake.applications): the answers carried onto the case, the
documents enforced, the fee and the meeting offered, one case per draft, and drafts that
are someone else's, altered or expired refused."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.core import signing
from django.core.cache import cache

from tests.intake.applying import (
    ELIGIBLE,
    FENCE,
    NOT_ELIGIBLE,
    PDF,
    council,
    grant,
    jpeg,
    mallory,
    planning,
    sarah,
)
from townhall.appointments.eligibility import eligibility_for
from townhall.appointments.models import MeetingService
from townhall.cases.models import Case
from townhall.core.errors import NotFound, ValidationFailed
from townhall.intake.application_drafts import (
    ApplicationExpired,
    ApplicationRefused,
    NotApplicable,
    application_draft,
    application_start,
    permit_application_start,
)
from townhall.intake.applications import (
    Upload,
    application_page,
    application_submit,
    application_submitted,
)
from townhall.intake.models import InboundMessage
from townhall.payments.models import Fee, FeeKind, Payment
from townhall.rules.evaluation import Outcome

__all__ = ["council", "grant", "mallory", "planning", "sarah"]
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def june() -> Iterator[Any]:
    with time_machine.travel("2026-06-01 12:00Z", tick=False) as traveller:
        yield traveller


def quote() -> list[Upload]:
    return [Upload("quote", "quote.pdf", PDF)]


def start(citizen: Any, answers: dict[str, str] | None = None) -> str:
    return application_start(citizen=citizen, rule_id="energy_subsidy", answers=answers or ELIGIBLE)


def test_the_answers_given_are_on_the_page_and_on_the_case(grant: Any, sarah: Any) -> None:
    token = start(sarah)
    assert "45" not in token and "sarah" not in token  # a signed random id, nothing else
    page = application_page(application_draft(token=token, citizen=sarah), language="en")
    rows = dict(page.rows)
    assert rows["How many people live in your household?"] == "2"
    assert rows["What is your household's total yearly income before tax?"] == "$45,000"
    assert rows["What work do you want to do?"] == "Insulation"
    assert rows["Is the home in the town?"] == "Yes"
    assert any("within" in r for r in page.reasons)
    assert [(d.code, d.required) for d in page.documents] == [("quote", True), ("photo", False)]
    spanish = application_page(application_draft(token=token, citizen=sarah), language="es")
    assert "¿Cuántas personas viven en su hogar?" in dict(spanish.rows)

    done = application_submit(token=token, citizen=sarah, uploads=quote())
    case = done.case
    assert done.created and case.reporter_id == sarah.pk
    assert case.service_type.code == "energy_grant"
    assert case.answers == {
        "lives_in_town": "yes",
        "owner_occupier": "yes",
        "household_size": 2,
        "household_income": 45000,
        "year_built": 1975,
        "work_type": "insulation",
        "cost": 10000,
    }
    assert "Application: Home energy renovation grant" in case.description
    assert "How many people live in your household?: 2" in case.description
    assert "likely eligible" in case.description
    message = InboundMessage.objects.get(case=case)
    assert [a.filename for a in message.attachments.all()] == ["quote.pdf"]
    # What the caseworker's appointment page shows: the programme, evaluated now on the
    # case's answers, says eligible, with each condition's explanation.
    appointment = SimpleNamespace(
        slot=SimpleNamespace(service=SimpleNamespace(programme="energy_subsidy")), case=case
    )
    seen = eligibility_for(appointment, on=case.opened_at.date())  # type: ignore[arg-type]
    assert seen is not None and seen.decision is not None
    assert seen.decision.outcome == Outcome.ELIGIBLE
    assert set(seen.used) == set(ELIGIBLE)
    assert done.payment_path == "" and done.book_path == ""
    assert done.request_path.startswith("/requests/")


def test_a_required_document_is_enforced_and_nothing_is_written(grant: Any, sarah: Any) -> None:
    token = start(sarah)
    with pytest.raises(ValidationFailed) as refused:
        application_submit(token=token, citizen=sarah, uploads=[])
    assert set(refused.value.details) == {"quote"}
    assert Case.objects.count() == 0 and InboundMessage.objects.count() == 0
    done = application_submit(token=token, citizen=sarah, uploads=quote())  # photo optional
    assert done.created


@pytest.mark.parametrize(
    ("uploads", "key", "words"),
    [
        ([Upload("quote", "q.txt", b"just some text")], "quote", "PDF or a photo"),
        ([Upload("quote", "q.pdf", b"")], "quote", "Upload"),
        ([Upload("quote", "a.pdf", PDF), Upload("quote", "b.pdf", PDF)], "quote", "one file"),
        ([*quote(), Upload("passport", "p.pdf", PDF)], "documents", "only the documents"),
        ([*quote(), Upload("photo", "x.jpg", b"\xff\xd8\xff broken")], "photo", "PDF or a photo"),
    ],
)
def test_bad_documents_are_refused_by_name(
    grant: Any, sarah: Any, uploads: list[Upload], key: str, words: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        application_submit(token=start(sarah), citizen=sarah, uploads=uploads)
    assert words in " ".join(refused.value.details[key])
    assert Case.objects.count() == 0


def test_a_file_over_the_size_limit_is_refused(grant: Any, sarah: Any, settings: Any) -> None:
    settings.TOWNHALL_PHOTO_MAX_BYTES = len(PDF) - 1
    with pytest.raises(ValidationFailed) as refused:
        application_submit(token=start(sarah), citizen=sarah, uploads=quote())
    assert "smaller than" in refused.value.details["quote"][0]


def test_a_photo_is_kept_without_its_hidden_details(grant: Any, sarah: Any) -> None:
    photo = jpeg()
    assert b"PhoneMaker" in photo
    done = application_submit(
        token=start(sarah), citizen=sarah, uploads=[*quote(), Upload("photo", "me.jpg", photo)]
    )
    stored = InboundMessage.objects.get(case=done.case).attachments.get(filename="photo.jpg")
    assert stored.content_type == "image/jpeg"
    assert b"PhoneMaker" not in stored.file.read()


def test_a_fee_makes_a_payment_to_pay_next(grant: Any, sarah: Any) -> None:
    Fee.objects.create(
        name="Grant file fee",
        service_type=grant.service_type,
        kind=FeeKind.FIXED,
        amount_minor=1500,
    )
    draft = application_draft(token=(token := start(sarah)), citizen=sarah)
    assert application_page(draft).fee == "$15.00"
    done = application_submit(token=token, citizen=sarah, uploads=quote())
    payment = Payment.objects.get(case=done.case)
    assert payment.amount_minor == 1500 and payment.state == "due"
    assert done.payment_path.startswith("/pay/") and len(done.payment_path) > 20


def test_a_permit_fee_is_asked_for_the_permit(planning: Any, sarah: Any) -> None:
    Fee.objects.create(
        name="Planning fee", permit="home_improvements:planning_permission", kind=FeeKind.PERMIT
    )
    token = permit_application_start(
        citizen=sarah, tree_id="home_improvements", permit_id="planning_permission", answers=FENCE
    )
    draft = application_draft(token=token, citizen=sarah)
    page = application_page(draft)
    assert page.title == "Planning permission" and page.fee == "$462.00"
    assert [d.required for d in page.documents] == [True, True, True]
    assert page.documents[0].label == "A site plan"
    with pytest.raises(ValidationFailed) as refused:
        application_submit(token=token, citizen=sarah, uploads=[Upload("permit_1", "a.pdf", PDF)])
    assert set(refused.value.details) == {"permit_2", "permit_3"}
    uploads = [Upload(f"permit_{n}", "a.pdf", PDF) for n in (1, 2)]
    uploads.append(Upload("permit_3", "site.jpg", jpeg()))
    done = application_submit(token=token, citizen=sarah, uploads=uploads)
    assert Payment.objects.get(case=done.case).amount_minor == 46200
    assert "What do you want to do?: Put up a fence or wall" in done.case.description


def test_a_service_that_needs_a_meeting_offers_booking(grant: Any, sarah: Any) -> None:
    MeetingService.objects.create(service_type=grant.service_type, programme="energy_subsidy")
    token = start(sarah)
    assert application_page(application_draft(token=token, citizen=sarah)).meeting
    done = application_submit(token=token, citizen=sarah, uploads=quote())
    assert done.book_path.startswith("/appointments/book/")


def test_a_second_send_returns_the_first_case(grant: Any, sarah: Any, june: Any) -> None:
    token = start(sarah)
    first = application_submit(token=token, citizen=sarah, uploads=quote())
    again = application_submit(token=token, citizen=sarah, uploads=quote())
    assert again.case.pk == first.case.pk and not again.created
    june.shift(3600 * 5)  # the back button, hours later: the draft is long gone
    late = application_submit(token=token, citizen=sarah, uploads=[])
    assert late.case.pk == first.case.pk
    assert Case.objects.count() == 1
    assert (
        cache.get(
            "townhall:application:" + signing.loads(token, salt="townhall.intake.application")["d"]
        )
        is None
    )


def test_another_resident_cannot_use_the_draft(grant: Any, sarah: Any, mallory: Any) -> None:
    token = start(sarah)
    for someone in (mallory, None):
        with pytest.raises(ApplicationRefused):
            application_draft(token=token, citizen=someone)
        with pytest.raises(ApplicationRefused):
            application_submit(token=token, citizen=someone, uploads=quote())
    done = application_submit(token=token, citizen=sarah, uploads=quote())
    assert application_submitted(token=token, citizen=mallory) is None  # not hers to see
    assert application_submitted(token=token, citizen=sarah).case.pk == done.case.pk  # type: ignore[union-attr]
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: signing.dumps({"d": "made-up"}, salt="townhall.intake.application") + "x",
        lambda t: signing.dumps(
            {"d": signing.loads(t, salt="townhall.intake.application")["d"]}, salt="other"
        ),
        lambda t: signing.dumps(["not", "a", "draft"], salt="townhall.intake.application"),
        lambda t: "",
        lambda t: "x" * 5000,
    ],
)
def test_an_altered_token_is_refused(grant: Any, sarah: Any, tamper: Any) -> None:
    token = tamper(start(sarah))
    with pytest.raises(ApplicationRefused):
        application_draft(token=token, citizen=sarah)
    with pytest.raises(ApplicationRefused):
        application_submit(token=token, citizen=sarah, uploads=quote())
    assert Case.objects.count() == 0


def test_a_made_up_draft_id_signed_by_us_is_gone(grant: Any, sarah: Any) -> None:
    token = signing.dumps({"d": "made-up"}, salt="townhall.intake.application")
    with pytest.raises(ApplicationExpired):
        application_draft(token=token, citizen=sarah)


def test_an_expired_draft_is_refused(grant: Any, sarah: Any, june: Any, settings: Any) -> None:
    token = start(sarah)
    june.shift(settings.TOWNHALL_ANSWERS_KEEP_MINUTES * 60 + 1)
    with pytest.raises(ApplicationExpired):
        application_draft(token=token, citizen=sarah)
    with pytest.raises(ApplicationExpired):
        application_submit(token=token, citizen=sarah, uploads=quote())
    assert Case.objects.count() == 0


def test_a_draft_lost_by_the_cache_is_expired(grant: Any, sarah: Any) -> None:
    token = start(sarah)
    cache.clear()
    with pytest.raises(ApplicationExpired):
        application_submit(token=token, citizen=sarah, uploads=quote())


def test_only_eligible_answers_and_set_up_services_start_an_application(
    grant: Any, sarah: Any
) -> None:
    with pytest.raises(NotApplicable):
        start(sarah, NOT_ELIGIBLE)
    with pytest.raises(NotApplicable):
        start(sarah, {"household_size": "2"})  # need more information
    with pytest.raises(NotApplicable):
        start(sarah, {**ELIGIBLE, "household_size": "lots"})
    with pytest.raises(NotApplicable):  # no service set up for it
        application_start(citizen=sarah, rule_id="council_tax_reduction", answers={})
    with pytest.raises(NotFound):
        application_start(citizen=sarah, rule_id="no_such_programme", answers=ELIGIBLE)
    grant.active = False
    grant.save()
    with pytest.raises(NotApplicable):
        start(sarah)


@pytest.mark.parametrize(
    ("permit", "answers"),
    [
        ("building_permit", FENCE),  # not what these answers need
        ("planning_permission", FENCE[:1]),  # the finder is not finished
        ("planning_permission", [("what", "fence"), ("fence_height", "maybe")]),
        ("planning_permission", [("nope", "x")]),
    ],
)
def test_a_permit_application_needs_a_finished_path_to_that_permit(
    planning: Any, sarah: Any, permit: str, answers: Any
) -> None:
    with pytest.raises(NotApplicable):
        permit_application_start(
            citizen=sarah, tree_id="home_improvements", permit_id=permit, answers=answers
        )


def test_a_cache_outage_refuses_to_start_and_never_breaks(
    grant: Any, sarah: Any, monkeypatch: Any
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "set", broken)
    with pytest.raises(NotApplicable) as refused:
        start(sarah)
    assert "try again later" in refused.value.details["apply"][0]
