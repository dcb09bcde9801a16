"""The satisfaction survey in the chat: a case filed through the assistant is asked
"how did we do?" in its own conversation once the case is resolved.

When the resident comes back to the conversation (their next message, or the widget
re-joining or polling it) and the case's survey is unanswered, a system turn asks the
question with five buttons (quick replies "1".."5"). Pressing one sends that digit as the
next message, over the same POST /api/assistant/messages (or the socket) with the
conversation key in the body: `survey_reply` answers the survey with it
(experience.services), instead of the dialogue engine. Anything else said then goes to
the engine as usual, and the question is not asked again in that conversation.
"""

from __future__ import annotations

import logging
import re

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from townhall.assistant.models import Conversation, Turn
from townhall.assistant.replies import BotMessage, QuickReply
from townhall.core.errors import NotFound, ValidationFailed
from townhall.experience.selectors import survey_open_for_case
from townhall.experience.services import SurveyAlreadyAnswered, survey_answer_for_case

log = logging.getLogger(__name__)

_DIGIT = re.compile(r"\s*([1-5])\s*")


def _labels() -> tuple[QuickReply, ...]:
    names = {
        "1": _("1 – Very dissatisfied"),
        "2": _("2 – Dissatisfied"),
        "3": _("3 – Neither"),
        "4": _("4 – Satisfied"),
        "5": _("5 – Very satisfied"),
    }
    return tuple(QuickReply(label=label, text=digit) for digit, label in names.items())


def survey_offer(conv: Conversation) -> BotMessage | None:
    """Ask the survey of the conversation's case once, if it is due; the caller holds the
    conversation's row lock and saves it. Return the question, or None."""
    state = dict(conv.state or {})
    if (
        conv.case_id is None
        or conv.channel != Conversation.Channel.WEB
        or conv.status not in {Conversation.Status.BOT, Conversation.Status.CLOSED}
        or state.get("survey_offered")
    ):
        return None
    survey = survey_open_for_case(case_id=conv.case_id)
    if survey is None:
        return None
    with translation.override(conv.language):
        text = _(
            "Your request %(reference)s has been resolved. How did we do? "
            "Choose from 1 (very dissatisfied) to 5 (very satisfied)."
        ) % {"reference": survey.case.reference}
        quick = _labels()
    turn = Turn.objects.create(
        conversation=conv,
        role=Turn.Role.SYSTEM,
        text=text,
        skill="survey",
        data={"quick_replies": [{"label": q.label, "text": q.text} for q in quick]},
    )
    conv.state = {**state, "survey_offered": True, "survey_pending": True}
    return BotMessage(text=text, quick_replies=quick, turn=turn.pk, role="system")


def survey_offer_by_key(*, key: str) -> None:
    """The offer for a widget that re-joins or polls its conversation (no message sent)."""
    conv = Conversation.objects.filter(key=key).only("pk", "case_id", "state").first()
    if conv is None or conv.case_id is None or (conv.state or {}).get("survey_offered"):
        return  # the common case costs one small query
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conv.pk)
        if survey_offer(locked) is not None:
            locked.save(update_fields=["state", "updated_at"])


def survey_reply(conv: Conversation, resident: Turn, *, text: str) -> BotMessage | None:
    """If the survey question is waiting and `text` is a digit 1-5, answer it and return
    the thanks (stored as a system turn); else None (the engine answers). Either way the
    question stops waiting."""
    state = dict(conv.state or {})
    if not state.pop("survey_pending", False):
        return None
    conv.state = state
    match = _DIGIT.fullmatch(text)
    if match is None or conv.case_id is None:
        return None
    with translation.override(conv.language):
        try:
            answer = survey_answer_for_case(case_id=conv.case_id, csat=int(match.group(1)))
        except SurveyAlreadyAnswered:
            words = _("Thank you: we already have your answer for this request.")
        except (NotFound, ValidationFailed):
            return None
        else:
            words = (
                _(
                    "Thank you for your answer. We are sorry it did not go well: "
                    "a supervisor will look at your request."
                )
                if answer.flagged
                else _("Thank you for your answer. It helps us improve.")
            )
    resident.skill = "survey"
    resident.save(update_fields=["skill"])
    turn = Turn.objects.create(
        conversation=conv, role=Turn.Role.SYSTEM, text=words, skill="survey", data={}
    )
    return BotMessage(text=words, turn=turn.pk, role="system")
