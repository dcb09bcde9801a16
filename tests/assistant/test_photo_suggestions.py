"""Issue 20 in the assistant: a photo received in a report dialogue may suggest another
service ("This photo looks like it shows: Mattress. Shall I report it as Fly-tipping?");
yes changes it, no keeps it, anything else answers the question that waited."""

from __future__ import annotations

from typing import Any

from tests.assistant.conftest import Chat
from tests.cases.test_photos import jpeg
from tests.photo_fakes import FakeVision, cat_jpeg, fly_tipping, photo_vision, real_cat_tag
from townhall.assistant.models import Conversation
from townhall.cases.models import Case
from townhall.cases.photos import photo_clean
from townhall.catalog.selectors import catalog_cache_clear
from townhall.intake.staging import photo_stage
from townhall.vision.types import TagGuess

__all__ = ["fly_tipping", "photo_vision", "real_cat_tag"]

OFFER = "This photo looks like it shows: Mattress. Shall I report it as “Fly-tipping”?"


def _token() -> str:
    return photo_stage(photo_clean(jpeg(), filename="mattress.jpg"))


def _up_to_the_photo(chat: Chat) -> None:
    chat.say("I want to report a pothole")
    chat.say("large")
    chat.say("12 Elm Street")
    answer = chat.say("Something dumped on the pavement")
    assert "photo" in answer


def test_yes_files_the_report_under_the_photos_service(
    chat: Chat, elm: Any, pothole: Any, fly_tipping: Any, photo_vision: FakeVision
) -> None:
    _up_to_the_photo(chat)
    answer = chat.say("", photos=(_token(),))
    assert OFFER in answer and "automatic guess" in answer
    assert chat.quick == ["Yes, change it", "No, keep it"]
    assert photo_vision.tagged == 1
    answer = chat.say("Yes, change it")
    assert "e-mail address or mobile number" in answer  # the question that waited
    answer = chat.say("skip")
    assert "Fly-tipping" in answer and "Photo: 1" in answer and "Pothole" not in answer
    chat.say("yes")
    case = Case.objects.get()
    assert case.service_type == fly_tipping
    assert case.photos.count() == 1
    assert case.answers == {}  # the pothole's "size" is not carried to fly-tipping
    assert photo_vision.tagged == 1  # filing tags nothing


def test_no_keeps_the_service(
    chat: Chat, elm: Any, pothole: Any, fly_tipping: Any, photo_vision: FakeVision
) -> None:
    _up_to_the_photo(chat)
    assert OFFER in chat.say("", photos=(_token(),))
    answer = chat.say("no")
    assert "e-mail address or mobile number" in answer
    answer = chat.say("skip")
    assert "Pothole" in answer and "Fly-tipping" not in answer
    chat.say("yes")
    assert Case.objects.get().service_type == pothole


def test_another_answer_is_taken_as_the_answer_to_the_question_that_waited(
    chat: Chat, elm: Any, pothole: Any, fly_tipping: Any, photo_vision: FakeVision
) -> None:
    _up_to_the_photo(chat)
    assert OFFER in chat.say("", photos=(_token(),))
    answer = chat.say("rosa@example.org")
    assert "Here is your report:" in answer and "rosa@example.org" in answer
    assert "Pothole" in answer
    state = Conversation.objects.get(key=chat.key).state["frame"]["slots"]
    assert "photo_offer" not in state


def test_a_photo_before_the_service_is_known_proposes_one(
    chat: Chat, elm: Any, pothole: Any, fly_tipping: Any, photo_vision: FakeVision
) -> None:
    chat.say("I want to report a pothole")  # a service is known: then change of mind
    conversation = Conversation.objects.get(key=chat.key)
    conversation.state["frame"]["slots"] = {"_ask": "service"}
    conversation.save()
    answer = chat.say("", photos=(_token(),))
    assert OFFER in answer
    answer = chat.say("yes")
    assert "Where is it?" in answer


def test_in_spanish(elm: Any, pothole: Any, fly_tipping: Any, photo_vision: FakeVision) -> None:
    chat = Chat(language="es")
    chat.say("quiero avisar de un bache")
    chat.say("Pequeño")
    chat.say("12 Elm Street")
    chat.say("Un colchón tirado")
    answer = chat.say("", photos=(_token(),))
    assert "Esta foto parece mostrar: Mattress. ¿Lo aviso como «Fly-tipping»?" in answer
    assert chat.quick == ["Sí, cambiarlo", "No, dejarlo así"]
    chat.say("Sí, cambiarlo")
    chat.say("omitir")
    chat.say("Sí, enviarlo")
    assert Case.objects.get().service_type == fly_tipping


def test_no_offer_for_the_same_service_an_inactive_one_or_no_photo(
    chat: Chat, elm: Any, pothole: Any, fly_tipping: Any, photo_vision: FakeVision
) -> None:
    _up_to_the_photo(chat)
    photo_vision.tags = [TagGuess("pothole", "Pothole", 0.95, "pothole")]
    answer = chat.say("", photos=(_token(),))
    assert "looks like" not in answer and "e-mail address" in answer
    chat.say("restart")
    fly_tipping.active = False
    fly_tipping.save()
    catalog_cache_clear()
    photo_vision.tags = [TagGuess("mattress", "Mattress", 0.9, "fly_tipping")]
    _up_to_the_photo(chat)
    answer = chat.say("", photos=(_token(),))
    assert "looks like" not in answer
    assert photo_vision.tagged == 2
    answer = chat.say("skip")
    assert "Here is your report:" in answer


def test_a_forged_photo_token_gives_no_offer(
    chat: Chat, elm: Any, pothole: Any, fly_tipping: Any, photo_vision: FakeVision
) -> None:
    _up_to_the_photo(chat)
    answer = chat.say("", photos=("not-a-token",))
    assert "looks like" not in answer
    assert photo_vision.tagged == 0


def test_with_the_real_recognition_a_cat_photo_is_offered_as_its_service(
    chat: Chat, elm: Any, pothole: Any, real_cat_tag: Any
) -> None:
    _up_to_the_photo(chat)
    token = photo_stage(photo_clean(cat_jpeg(), filename="cat.jpg"))
    answer = chat.say("", photos=(token,))
    assert "This photo looks like it shows: Cat. Shall I report it as “Fly-tipping”?" in answer
    chat.say("yes")
    chat.say("skip")
    chat.say("yes")
    assert Case.objects.get().service_type.code == "fly_tipping"
