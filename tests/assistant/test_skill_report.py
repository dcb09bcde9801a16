"""Reporting a problem in conversation: every slot, corrections, a digression and its
return, confirmation before anything is filed, then a real case with its promised date."""

from __future__ import annotations

from typing import Any

from tests.assistant.conftest import Chat
from tests.portal.conftest import bin_home

__all__ = ["bin_home"]
from townhall.assistant.models import Conversation
from townhall.cases.models import Case


def test_a_report_is_filed_only_after_the_resident_confirms_the_summary(
    chat: Chat, elm: Any, pothole: Any
) -> None:
    answer = chat.say("I want to report a pothole")
    assert "How big is it?" in answer
    assert chat.quick == ["Small", "Large"]
    answer = chat.say("large")
    assert "Where is it?" in answer
    answer = chat.say("12 Elm Street")
    assert "describe the problem" in answer
    answer = chat.say("A deep hole by the bus stop")
    assert "photo" in answer
    answer = chat.say("no photo")
    assert "e-mail address or mobile number" in answer
    answer = chat.say("rosa@example.org")
    assert "Here is your report:" in answer
    assert "12 Elm Street" in answer and "Large" in answer and "rosa@example.org" in answer
    assert chat.quick == ["Yes, send it", "Change something", "Cancel"]
    assert Case.objects.count() == 0  # nothing filed before the yes
    answer = chat.say("Yes, send it")
    case = Case.objects.get()
    assert case.reference in answer
    assert case.expected_on is not None and "We expect to deal with it by" in answer
    assert case.channel == "assistant"
    assert case.service_type == pothole
    assert case.answers == {"size": "large"}
    assert case.address == "12 Elm Street"
    assert case.description == "A deep hole by the bus stop"
    conversation = Conversation.objects.get(key=chat.key)
    assert conversation.case == case
    assert conversation.outcome == "filed"
    assert conversation.state["frame"] is None
    assert any(case.reference in url for _title, url in chat.sources)


def test_a_correction_at_the_summary_changes_that_part_and_asks_again(
    chat: Chat, elm: Any, pothole: Any
) -> None:
    chat.say("report a pothole at 12 Elm Street")  # the address is read from the sentence
    chat.say("small")
    answer = chat.say("Cracked road")
    assert "photo" in answer
    chat.say("skip")
    answer = chat.say("skip")
    assert "12 Elm Street" in answer
    answer = chat.say("no, it's at 14 Elm Street")
    assert "14 Elm Street" in answer and "Shall I send it?" in answer
    answer = chat.say("Change something")
    assert chat.quick == ["Place", "Description", "Photo", "Contact details"]
    answer = chat.say("Description")
    assert "describe the problem" in answer
    answer = chat.say("A crack across the whole road")
    assert "A crack across the whole road" in answer and "Shall I send it?" in answer
    chat.say("yes")
    case = Case.objects.get()
    assert case.address == "14 Elm Street" and case.description == "A crack across the whole road"


def test_an_unknown_address_is_asked_again_then_a_person_is_offered(
    chat: Chat, elm: Any, pothole: Any
) -> None:
    chat.say("report a pothole")
    chat.say("small")
    answer = chat.say("Nowhere Lane")
    assert "couldn't find “Nowhere Lane”" in answer
    answer = chat.say("Atlantis")
    assert "couldn't find" in answer
    assert "Talk to a person" in chat.quick and "Cancel" in chat.quick
    answer = chat.say("9 Maple Avenue")
    assert "describe the problem" in answer


def test_a_bin_day_question_in_the_middle_of_a_report_is_answered_then_the_report_resumes(
    chat: Chat, pothole: Any, home: Any, town: Any
) -> None:
    chat.say("report a pothole")
    chat.say("large")
    chat.say("100 Queen Street West")
    answer = chat.say("when is my bin day?")
    assert "Next collections at 100 Queen Street West" in answer  # the address it knew
    assert "Back to your report: Please describe the problem" in answer
    conversation = Conversation.objects.get(key=chat.key)
    assert conversation.state["frame"]["skill"] == "report_issue"
    assert conversation.state["stack"] == []
    answer = chat.say("Deep hole")
    assert "photo" in answer


def test_a_report_in_spanish(elm: Any, pothole: Any) -> None:
    chat = Chat(language="es")
    answer = chat.say("quiero avisar de un bache")
    assert "¿De qué tamaño es?" in answer
    assert chat.quick[0] == "Pequeño"
    answer = chat.say("Pequeño")
    assert "¿Dónde está?" in answer
    chat.say("12 Elm Street")
    chat.say("Un bache profundo")
    chat.say("sin foto")
    answer = chat.say("omitir")
    assert "Este es su aviso:" in answer and "¿Lo envío?" in answer
    answer = chat.say("Sí, enviarlo")
    case = Case.objects.get()
    assert f"Su referencia es {case.reference}" in answer
    assert "Esperamos resolverlo antes del" in answer


def test_a_photo_is_added_and_its_location_used_for_the_place(
    chat: Chat, elm: Any, pothole: Any
) -> None:
    from tests.cases.test_photos import jpeg
    from townhall.cases.photos import photo_clean
    from townhall.intake.staging import photo_stage

    token = photo_stage(photo_clean(jpeg(gps=(42.3601, -71.0942)), filename="hole.jpg"))
    chat.say("report a pothole", photos=(token,))
    answer = chat.say("large")
    assert "Where is it?" in answer
    assert chat.quick == ["Use the photo's location"]
    answer = chat.say("Use the photo's location")
    assert "describe the problem" in answer
    chat.say("Hole by the kerb")  # the photo came first: no photo question
    answer = chat.say("skip")
    assert "Use the photo's location" in answer and "Photo: 1" in answer
    chat.say("yes")
    case = Case.objects.get()
    assert case.photos.count() == 1
    assert case.lat is not None and abs(case.lat - 42.3601) < 1e-3


def test_a_missed_bin_is_refused_before_the_crews_are_done(
    chat: Chat, bin_home: Any, pothole: Any
) -> None:
    import time_machine

    # the pothole service stands in for a missed organics bin (tests/portal/conftest.py)
    with time_machine.travel("2024-12-18 14:00 +00:00", tick=False):
        chat.say("report a pothole")
        chat.say("small")
        answer = chat.say("100 Queen Street West")
    assert "can't report this missed bin yet" in answer
    assert "The next Food and organics collection at this address is on" in answer
    assert Conversation.objects.get(key=chat.key).state["frame"] is None
    assert Case.objects.count() == 0


def test_a_problem_no_service_fits_is_asked_again_then_offered_to_the_general_enquiry(
    chat: Chat, elm: Any, pothole: Any, no_heat: Any, settings: Any
) -> None:
    settings.TOWNHALL_INTAKE_FALLBACK_SERVICE = "no_heat"  # stands in for a general enquiry
    answer = chat.say("Report a problem")  # the button
    assert "What kind of problem is it?" in answer
    answer = chat.say("zzyzx quux")
    assert "not sure which kind of problem" in answer
    assert chat.quick == ["No heat"]
    answer = chat.say("No heat")
    assert "Where is it?" in answer


def test_a_signed_in_resident_reports_with_their_proven_address(elm: Any, pothole: Any) -> None:
    from townhall.people.services import citizen_email_prove

    citizen = citizen_email_prove(email="ana@example.org")
    chat = Chat(citizen_id=citizen.pk)
    chat.say("report a pothole at 12 Elm Street")
    chat.say("small")
    chat.say("Hole")
    answer = chat.say("no photo")
    assert "ana@example.org" in answer and "Shall I send it?" in answer  # not asked for
    chat.say("yes")
    assert Case.objects.get().reporter_id == citizen.pk


def test_a_digression_in_spanish_returns_in_spanish(pothole: Any, home: Any, town: Any) -> None:
    chat = Chat(language="es")
    chat.say("quiero avisar de un bache")
    chat.say("Large")  # no Spanish name in the test catalogue
    chat.say("100 Queen Street West")
    answer = chat.say("¿cuándo es la recogida de basura?")
    assert "Próximas recogidas en 100 Queen Street West" in answer
    assert "Volvamos a su aviso: Describa el problema" in answer
