"""Satisfaction surveys: made when a case is resolved, answered once, scored, flagged."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from tests.experience.conftest import resolved_for
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.services import case_transition
from townhall.core.errors import NotFound, ValidationFailed
from townhall.experience.models import FlagKind, SupervisorFlag, Survey
from townhall.experience.selectors import survey_page, surveys_open_for, token_hash
from townhall.experience.services import (
    SurveyAlreadyAnswered,
    survey_answer,
    survey_opt_out,
)
from townhall.experience.surveys import in_nps_sample
from townhall.notify.links import survey_token, survey_url
from townhall.notify.models import Notification
from townhall.people.citizens import consent_record
from townhall.people.models import ConsentPurpose, ConsentRecord
from townhall.people.services import citizen_resolve

pytestmark = pytest.mark.django_db


def test_resolving_a_case_owes_its_reporter_one_survey(
    pothole: Any, resident: Any, caseworker: Any
) -> None:
    case = resolved_for(pothole, resident, caseworker)
    survey = Survey.objects.get(case=case)
    assert survey.citizen == resident
    assert survey.token_hash == token_hash(survey_token(case_id=case.pk))
    assert (survey.channel, survey.language, survey.answered_at) == ("email", "en", None)
    # Reopened and resolved again: still the one survey, not a second question.
    case_transition(case=case, to=CaseStatus.REOPENED, actor=caseworker)
    case_transition(case=case, to=CaseStatus.RESOLVED, actor=caseworker)
    assert Survey.objects.filter(case=case).count() == 1


def test_no_survey_without_a_reporter_or_for_other_statuses(
    pothole: Any, resident: Any, caseworker: Any
) -> None:
    anonymous = resolved_for(pothole, None, caseworker)
    assert not Survey.objects.filter(case=anonymous).exists()
    from townhall.cases.services import case_open

    rejected = case_open(
        service_type=pothole,
        channel="web",
        answers={"size": "small"},
        description="x",
        reporter=resident,
    )
    case_transition(case=rejected, to=CaseStatus.REJECTED, actor=caseworker, note="Not ours")
    assert not Survey.objects.filter(case=rejected).exists()


def test_the_resolution_email_carries_the_real_survey_link(
    pothole: Any, resident: Any, caseworker: Any
) -> None:
    case = resolved_for(pothole, resident, caseworker)
    message = Notification.objects.get(case_id=case.pk, kind="resolved")
    assert survey_url(case_id=case.pk) in message.body
    assert "/track/" not in message.body.split("How did we do?")[1].split("\n\n")[0]
    assert "How did we do?" in message.body


def test_the_resolution_text_asks_for_a_reply_digit_in_spanish(
    pothole: Any, texter: Any, caseworker: Any
) -> None:
    case = resolved_for(pothole, texter, caseworker)
    message = Notification.objects.get(case_id=case.pk, kind="resolved")
    assert message.channel == "sms"
    assert "Responda del 1 al 5" in message.body
    assert survey_url(case_id=case.pk) in message.body
    survey = Survey.objects.get(case=case)
    assert (survey.channel, survey.language) == ("sms", "es")


def test_a_reporter_who_opted_out_is_not_asked_and_the_message_says_nothing_of_it(
    pothole: Any, resident: Any, caseworker: Any
) -> None:
    consent_record(
        citizen=resident,
        purpose=ConsentPurpose.SURVEYS,
        granted=False,
        at=resident.created_at,
        channel="web",
    )
    case = resolved_for(pothole, resident, caseworker)
    assert not Survey.objects.filter(case=case).exists()
    message = Notification.objects.get(case_id=case.pk, kind="resolved")
    assert "/survey/" not in message.body
    assert "How did we do?" not in message.body
    assert "We have resolved your request" in message.body


def test_followers_hear_of_the_resolution_without_the_reporters_survey(
    pothole: Any, resident: Any, caseworker: Any
) -> None:
    from townhall.cases.services import case_open
    from townhall.people.models import Citizen

    case = case_open(
        service_type=pothole,
        channel="web",
        answers={"size": "small"},
        description="x",
        reporter=resident,
    )
    neighbour = citizen_resolve(name="N", email="neighbour@example.org")
    from townhall.cases.models import CaseFollower

    CaseFollower.objects.create(case=case, citizen=neighbour, via="subscribed")
    case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=caseworker)
    case_transition(case=case, to=CaseStatus.RESOLVED, actor=caseworker)
    theirs = Notification.objects.get(case_id=case.pk, kind="resolved", citizen=neighbour)
    assert "/survey/" not in theirs.body
    assert Citizen.objects.count() == 2


def test_nps_is_asked_of_a_deterministic_share(settings: Any) -> None:
    settings.TOWNHALL_EXPERIENCE = settings.TOWNHALL_EXPERIENCE._replace(nps_share=0.25)
    asked = [in_nps_sample(case_id) for case_id in range(1, 4001)]
    assert 0.22 < sum(asked) / len(asked) < 0.28
    assert asked == [in_nps_sample(case_id) for case_id in range(1, 4001)]  # same every time
    settings.TOWNHALL_EXPERIENCE = settings.TOWNHALL_EXPERIENCE._replace(nps_share=0.0)
    assert not any(in_nps_sample(case_id) for case_id in range(1, 500))
    settings.TOWNHALL_EXPERIENCE = settings.TOWNHALL_EXPERIENCE._replace(nps_share=1.0)
    assert all(in_nps_sample(case_id) for case_id in range(1, 500))


def test_an_answer_is_stored_once_with_its_tone(
    pothole: Any, resident: Any, caseworker: Any
) -> None:
    case = resolved_for(pothole, resident, caseworker)
    token = survey_token(case_id=case.pk)
    answer = survey_answer(token=token, csat=5, comment="Quick and friendly, thanks.", via="web")
    assert (answer.csat, answer.flagged) == (5, False)
    survey = Survey.objects.get(case=case)
    assert (survey.csat, survey.answered_via) == (5, "web")
    assert survey.comment_tone is not None and survey.comment_tone < 0.5
    with pytest.raises(SurveyAlreadyAnswered):
        survey_answer(token=token, csat=1, via="web")
    survey.refresh_from_db()
    assert survey.csat == 5  # the first answer stands
    assert not SupervisorFlag.objects.exists()


@pytest.mark.parametrize("csat", [1, 2])
def test_a_low_score_opens_a_follow_up_for_the_supervisor(
    pothole: Any, resident: Any, caseworker: Any, csat: int
) -> None:
    case = resolved_for(pothole, resident, caseworker)
    answer = survey_answer(token=survey_token(case_id=case.pk), csat=csat, via="web")
    assert answer.flagged
    flag = SupervisorFlag.objects.get(case=case)
    assert (flag.kind, flag.score, flag.survey_id) == (FlagKind.LOW_SCORE, csat, case.survey.pk)
    assert "CSAT" in flag.reason


def test_the_low_score_setting_moves_the_line(
    pothole: Any, resident: Any, caseworker: Any, settings: Any
) -> None:
    settings.TOWNHALL_EXPERIENCE = settings.TOWNHALL_EXPERIENCE._replace(low_score=3)
    case = resolved_for(pothole, resident, caseworker)
    assert survey_answer(token=survey_token(case_id=case.pk), csat=3, via="web").flagged


def test_a_furious_comment_is_flagged_even_with_a_middling_score_and_not_copied(
    pothole: Any, resident: Any, caseworker: Any
) -> None:
    case = resolved_for(pothole, resident, caseworker)
    comment = "This is the THIRD time I report it, absolutely useless, you people are a joke!!!"
    answer = survey_answer(token=survey_token(case_id=case.pk), csat=4, comment=comment, via="web")
    assert answer.flagged and answer.tone is not None and answer.tone > 0.9
    flag = SupervisorFlag.objects.get(case=case)
    assert "tone" in flag.reason and "joke" not in flag.reason


def test_a_spanish_comment_is_scored_too(pothole: Any, caseworker: Any) -> None:
    lucia = citizen_resolve(name="Lucía", email="lucia@example.org", language="es")
    case = resolved_for(pothole, lucia, caseworker)
    comment = "Sigue roto después de tres semanas, una vergüenza, nadie hizo nada!!!"
    answer = survey_answer(token=survey_token(case_id=case.pk), csat=3, comment=comment, via="web")
    assert answer.flagged


@pytest.mark.parametrize(
    ("csat", "nps", "comment", "field"),
    [
        (0, None, "", "csat"),
        (6, None, "", "csat"),
        ("five", None, "", "csat"),
        (True, None, "", "csat"),
        (None, None, "", "csat"),
        (3, 11, "", "nps"),
        (3, -1, "", "nps"),
        (3, None, "x" * 2001, "comment"),
    ],
)
def test_values_out_of_range_are_refused_with_the_field(
    pothole: Any,
    resident: Any,
    caseworker: Any,
    settings: Any,
    csat: Any,
    nps: Any,
    comment: str,
    field: str,
) -> None:
    settings.TOWNHALL_EXPERIENCE = settings.TOWNHALL_EXPERIENCE._replace(nps_share=1.0)
    case = resolved_for(pothole, resident, caseworker)
    with pytest.raises(ValidationFailed) as caught:
        survey_answer(
            token=survey_token(case_id=case.pk), csat=csat, nps=nps, comment=comment, via="web"
        )
    assert field in caught.value.details
    assert Survey.objects.get(case=case).answered_at is None


def test_nps_is_kept_only_when_it_was_asked(
    pothole: Any, resident: Any, caseworker: Any, settings: Any
) -> None:
    settings.TOWNHALL_EXPERIENCE = settings.TOWNHALL_EXPERIENCE._replace(nps_share=0.0)
    case = resolved_for(pothole, resident, caseworker)
    survey_answer(token=survey_token(case_id=case.pk), csat=4, nps=9, via="web")
    assert Survey.objects.get(case=case).nps is None
    settings.TOWNHALL_EXPERIENCE = settings.TOWNHALL_EXPERIENCE._replace(nps_share=1.0)
    other = resolved_for(pothole, resident, caseworker)
    survey_answer(token=survey_token(case_id=other.pk), csat=4, nps=9, via="web")
    assert Survey.objects.get(case=other).nps == 9


@pytest.mark.parametrize(
    "token",
    ["", "x", "a" * 32, "A" * 32, "../../etc/passwd", "a" * 5000, "ZZZZ" * 8],
)
def test_a_wrong_or_guessed_token_answers_nothing(
    pothole: Any, resident: Any, caseworker: Any, token: str
) -> None:
    resolved_for(pothole, resident, caseworker)
    assert survey_page(token=token) is None
    with pytest.raises(NotFound):
        survey_answer(token=token, csat=5, via="web")
    assert not Survey.objects.filter(answered_at__isnull=False).exists()


def test_a_comment_with_markup_is_stored_as_text(
    pothole: Any, resident: Any, caseworker: Any
) -> None:
    case = resolved_for(pothole, resident, caseworker)
    comment = '<script>alert("x")</script>\x00 <b>ok</b>'
    survey_answer(token=survey_token(case_id=case.pk), csat=4, comment=comment, via="web")
    stored = Survey.objects.get(case=case).comment
    assert stored == '<script>alert("x")</script> <b>ok</b>'  # text, never run: escaped on show


def test_opting_out_records_a_withdrawal_and_hides_open_surveys(
    pothole: Any, resident: Any, caseworker: Any
) -> None:
    case = resolved_for(pothole, resident, caseworker)
    assert [s.reference for s in surveys_open_for(citizen_id=resident.pk, case_ids=[case.pk])] == [
        case.reference
    ]
    assert survey_opt_out(citizen_id=resident.pk, via="web")
    record = ConsentRecord.objects.get(citizen=resident)
    assert (record.purpose, record.granted) == ("surveys", False)
    assert surveys_open_for(citizen_id=resident.pk, case_ids=[case.pk]) == []
    later = resolved_for(pothole, resident, caseworker)
    assert not Survey.objects.filter(case=later).exists()


@pytest.mark.django_db(transaction=True)
def test_two_answers_at_the_same_instant_store_one(
    pothole: Any, resident: Any, caseworker: Any
) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    case = resolved_for(pothole, resident, caseworker)
    token = survey_token(case_id=case.pk)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def answer(score: int) -> None:
        try:
            barrier.wait()
            survey_answer(token=token, csat=score, via="web")
            outcomes.append("stored")
        except SurveyAlreadyAnswered:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=answer, args=(n,)) for n in (1, 2, 4, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "refused", "refused", "stored"]
    survey = Survey.objects.get(case=case)
    assert survey.csat in {1, 2, 4, 5}
    # At most one open flag, whichever low score won.
    assert SupervisorFlag.objects.filter(case=case).count() == (1 if survey.csat <= 2 else 0)


def test_the_english_resolution_text_with_its_link_is_plain_gsm7_in_two_segments(
    pothole: Any, caseworker: Any, settings: Any
) -> None:
    from townhall.notify.rendering import sms_segments

    settings.TOWNHALL_PUBLIC_URL = "https://townhall.example.org"
    sam = citizen_resolve(name="Sam", phone="617-555-0143", channel="sms", language="en")
    case = resolved_for(pothole, sam, caseworker)
    message = Notification.objects.get(case_id=case.pk, kind="resolved")
    assert "Reply 1-5" in message.body and survey_url(case_id=case.pk) in message.body
    assert message.body.endswith("Reply STOP to opt out.")  # not cut short
    assert message.body.isascii() and sms_segments(message.body) == 2


def test_an_in_app_resolution_points_to_the_account_page_without_a_link(
    pothole: Any, caseworker: Any
) -> None:
    unreachable = citizen_resolve(name="No contact", handle="@nocontact")
    case = resolved_for(pothole, unreachable, caseworker)
    message = Notification.objects.get(case_id=case.pk, kind="resolved")
    assert message.channel == "inapp"
    assert "survey from your account page" in message.body and "http" not in message.body
    assert Survey.objects.get(case=case).channel == "web"


def test_staff_read_answers_in_the_admin_without_the_token(
    pothole: Any, resident: Any, caseworker: Any, admin_client: Any
) -> None:
    case = resolved_for(pothole, resident, caseworker)
    survey_answer(token=survey_token(case_id=case.pk), csat=2, comment="<b>slow</b>", via="web")
    survey = Survey.objects.get(case=case)
    page = admin_client.get(f"/admin/experience/survey/{survey.pk}/change/").content.decode()
    assert "&lt;b&gt;slow&lt;/b&gt;" in page and "<b>slow</b>" not in page
    assert survey_token(case_id=case.pk) not in page and survey.token_hash not in page
    listing = admin_client.get("/admin/experience/survey/").content.decode()
    assert str(case) in listing
