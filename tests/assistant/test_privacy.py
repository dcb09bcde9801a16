"""A resident's conversations are in their data export and blanked by erasure; the
assistant's rates survive it."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from tests.assistant.conftest import Chat
from townhall.assistant.models import Conversation, Turn
from townhall.assistant.services import message_receive
from townhall.assistant.services_sms import sender_hash_of
from townhall.intake.privacy_erase import resident_erase, resident_erasure_plan
from townhall.intake.privacy_export import resident_export


def test_conversations_are_exported_and_erased_with_the_resident(
    resident: Any, caseworker: Any
) -> None:
    # Texts are the resident's only from a number they proved.
    resident.contact_points.filter(kind="phone").update(verified=True)
    chat = Chat(citizen_id=resident.pk)
    chat.say("hello, I live at 12 Elm Street")
    # A text from their phone number, keyed by its hash.
    message_receive(
        conversation=None,
        text="my phone question",
        channel="sms",
        sender_hash=sender_hash_of("+16175550199"),
    )
    stranger = Chat()
    stranger.say("hello from someone else")
    out = io.BytesIO()
    result = resident_export(citizen_id=resident.pk, out=out)
    assert result.counts["conversations"] == 2
    with zipfile.ZipFile(out) as zf:
        rows = json.loads(zf.read("conversations.json"))
    said = [t["text"] for row in rows for t in row["turns"] if t["role"] == "resident"]
    assert said == ["hello, I live at 12 Elm Street", "my phone question"]

    assert resident_erasure_plan(resident.pk).counts["conversations_redacted"] == 2
    resident_erase(citizen_id=resident.pk, actor=caseworker)
    theirs = Conversation.objects.exclude(key=stranger.key)
    assert [(c.citizen_id, c.sender_hash, c.state) for c in theirs] == [(None, "", {})] * 2
    assert set(Turn.objects.filter(conversation__in=theirs).values_list("text", flat=True)) == {""}
    assert Turn.objects.filter(conversation__key=stranger.key, text="hello from someone else")
    # The statistics stay: outcomes and skills are kept.
    assert Turn.objects.filter(conversation__in=theirs).exclude(skill="").exists()


def test_texts_from_a_number_the_resident_never_proved_are_not_theirs(resident: Any) -> None:
    message_receive(
        conversation=None,
        text="someone else's phone",
        channel="sms",
        sender_hash=sender_hash_of("+16175550199"),  # given on a form, never proven
    )
    out = io.BytesIO()
    assert resident_export(citizen_id=resident.pk, out=out).counts["conversations"] == 0


def test_transcripts_are_blanked_after_the_retention_period(db: None) -> None:
    import datetime as dt

    from townhall.assistant.tasks import conversations_expire_task
    from townhall.core import clock

    old, new = Chat(), Chat()
    old.say("hello, I live at 12 Elm Street")
    new.say("hello")
    Conversation.objects.filter(key=old.key).update(updated_at=clock.now() - dt.timedelta(days=400))
    assert conversations_expire_task.call() == 1
    assert set(Turn.objects.filter(conversation__key=old.key).values_list("text", flat=True)) == {
        ""
    }
    assert Turn.objects.filter(conversation__key=new.key, text="hello").exists()
    assert Turn.objects.filter(conversation__key=old.key).exclude(skill="").exists()
