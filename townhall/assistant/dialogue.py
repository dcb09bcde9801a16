"""The dialogue engine: from one resident message and the conversation's state to the
assistant's answer.

State (`Conversation.state`, JSON): the active skill's frame (`{"skill", "slots"}`), a
stack of frames a digression interrupted, `memory` shared by skills (the address given),
a pending clarifying question, and counters (fallbacks in a row, rephrasings).

One turn, in order: "start again" / "cancel"; the answer to a clarifying question; with a
skill active, its answer, unless the words clearly ask something else (a digression:
answered, then "Back to your report: …"); else what the understanding module chose, a
clarifying question when two skills are too close, or the two-step fallback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from townhall.assistant import nlu
from townhall.assistant.dialogue_base import (
    Ctx,
    Handler,
    Step,
    capability_replies,
    message,
    skill_title,
)
from townhall.assistant.dialogue_slots import (
    address_match,
    fold,
    is_question,
    reference_in,
)
from townhall.assistant.models import Conversation
from townhall.assistant.nlu import Understanding
from townhall.assistant.replies import BotMessage, QuickReply
from townhall.assistant.skill_answers import faq, greeting, human_handoff, out_of_scope
from townhall.assistant.skill_appointments import appointment
from townhall.assistant.skill_notices import expects as notices_expects
from townhall.assistant.skill_notices import notices
from townhall.assistant.skill_report import expects as report_expects
from townhall.assistant.skill_report import report_issue
from townhall.assistant.skill_rules import eligibility, permit_finder
from townhall.assistant.skill_status import case_status
from townhall.assistant.skill_waste import waste_schedule
from townhall.assistant.skills import skills_load

log = logging.getLogger(__name__)

HANDLERS: dict[str, Handler] = {
    "greeting": greeting,
    "faq": faq,
    "out_of_scope": out_of_scope,
    "human_handoff": human_handoff,
    "waste_schedule": waste_schedule,
    "case_status": case_status,
    "report_issue": report_issue,
    "permit_finder": permit_finder,
    "eligibility": eligibility,
    "appointment": appointment,
    "notices": notices,
}

# Whether the words answer what the active skill asked; if not, and the understanding
# module is sure of another skill, the resident has digressed.
EXPECTS: dict[str, Callable[[dict[str, Any], str], bool]] = {
    "report_issue": report_expects,
    "waste_schedule": lambda slots, text: address_match(text, asked=True).place is not None,
    "case_status": lambda slots, text: reference_in(text) is not None,
    "permit_finder": lambda slots, text: not is_question(text),
    "eligibility": lambda slots, text: not is_question(text),
    "appointment": lambda slots, text: not is_question(text),
    "notices": notices_expects,
}
# Skills a conversation never digresses to: they have nothing to answer on their own.
NOT_A_DIGRESSION = frozenset({"greeting", "out_of_scope"})

RESTART = {
    "start again", "start over", "restart", "reset", "begin again", "empezar de nuevo",
    "volver a empezar", "empezar otra vez", "reiniciar",
}  # fmt: skip
CANCEL = {
    "cancel", "stop", "never mind", "nevermind", "forget it", "quit", "cancelar", "olvidalo",
    "dejalo", "no importa",
}  # fmt: skip
# How sure the understanding must be that an answer asks for a person, mid-question. Measured
# on MiniLM: "a person please" 0.57, "talk to a human" 0.75; the answer "3 people" 0.38.
PERSON_CONFIDENCE = 0.5
# After this many answers in a row that do not fit the question, offer a person.
REPEATS_BEFORE_HELP = 2


def _tasks() -> dict[str, str]:
    return {
        "report_issue": _("report"),
        "waste_schedule": _("bin days question"),
        "case_status": _("request check"),
        "permit_finder": _("permit questions"),
        "eligibility": _("eligibility check"),
        "appointment": _("appointment"),
        "notices": _("notices question"),
    }


@dataclass
class TurnResult:
    messages: list[BotMessage]
    skill: str = ""
    confidence: float | None = None
    outcome: str = ""
    fallback: bool = False
    data: dict[str, Any] = field(default_factory=dict)


class Engine:
    """One turn of one conversation; the caller saves `conversation.state` afterwards."""

    def __init__(
        self,
        conversation: Conversation,
        *,
        text: str,
        photos: Sequence[str] = (),
        citizen_id: int | None = None,
    ) -> None:
        self.conversation = conversation
        self.text = text
        self.photos = photos
        self.citizen_id = citizen_id
        self.language = conversation.language
        state = conversation.state or {}
        self.state: dict[str, Any] = {
            "frame": state.get("frame"),
            "stack": list(state.get("stack") or []),
            "memory": dict(state.get("memory") or {}),
            "fallbacks": int(state.get("fallbacks") or 0),
            "rephrasings": int(state.get("rephrasings") or 0),
            "clarify": state.get("clarify"),
        }
        self._understood: Understanding | None = None

    # --- understanding, once per turn ---------------------------------------------------

    def understanding(self) -> Understanding:
        if self._understood is None:
            try:
                self._understood = nlu.understand(self.text, language=self.language)
            except Exception:  # understanding nothing beats a 500; the words are not logged
                log.exception("assistant: understanding failed")
                self._understood = Understanding(skill="out_of_scope", confidence=0.0)
        return self._understood

    def _quick_skill(self) -> str | None:
        """The skill whose button label the resident sent (a quick reply), if any."""
        words = fold(self.text)
        for name in skills_load():
            if name == "out_of_scope":
                continue
            for language in (self.language, "en"):
                if words and words == fold(skill_title(name, language)):
                    return name
        return None

    # --- the turn -----------------------------------------------------------------------

    def run(self) -> TurnResult:
        if self.state["fallbacks"]:
            self.state["rephrasings"] += 1
        words = fold(self.text)
        if words in RESTART:
            return self._restart()
        if words in CANCEL or (self.state["frame"] and words == fold(_cancel_label(self))):
            return self._cancel()
        clarify, self.state["clarify"] = self.state["clarify"], None
        if clarify:
            chosen = next(
                (s for s in clarify["skills"] if fold(skill_title(s, self.language)) == words),
                None,
            )
            if chosen is not None:
                self.text = str(clarify["text"])
                self._understood = None
                return self._start(chosen, confidence=None)
        frame = self.state["frame"]
        if frame:
            return self._continue(frame)
        quick = self._quick_skill()
        if quick is not None:
            return self._start(quick, confidence=1.0, text_is_label=True)
        understood = self.understanding()
        if understood.ambiguous and len(understood.candidates) >= 2:
            return self._clarify(understood)
        return self._start(understood.skill, confidence=understood.confidence)

    def _restart(self) -> TurnResult:
        self.state.update(frame=None, stack=[], clarify=None, fallbacks=0)
        text = _("Let's start again. What can I help with?")
        return TurnResult([message(text, quick=capability_replies(self.language))], "restart")

    def _cancel(self) -> TurnResult:
        had = bool(self.state["frame"])
        self.state.update(frame=None, stack=[], clarify=None)
        text = _("OK, I've cancelled that.") if had else _("There is nothing to cancel.")
        text += " " + _("Is there anything else I can help with?")
        return TurnResult([message(text, quick=capability_replies(self.language))], "cancel")

    def _clarify(self, understood: Understanding) -> TurnResult:
        skills = [c.skill for c in understood.candidates[:2] if c.skill in HANDLERS]
        if len(skills) < 2:
            return self._start(understood.skill, confidence=understood.confidence)
        self.state["clarify"] = {"skills": skills, "text": self.text}
        labels = [skill_title(s, self.language) for s in skills]
        return TurnResult(
            [message(_("Did you mean one of these?"), quick=labels)],
            "clarify",
            understood.confidence,
            data={"candidates": skills},
        )

    def _ctx(self, frame: dict[str, Any], **flags: Any) -> Ctx:
        return Ctx(
            conversation=self.conversation,
            text=self.text,
            language=self.language,
            slots=frame.setdefault("slots", {}),
            memory=self.state["memory"],
            understanding=self._understood,
            photos=self.photos,
            citizen_id=self.citizen_id,
            fallbacks=self.state["fallbacks"],
            **flags,
        )

    def _start(
        self, skill: str, *, confidence: float | None, text_is_label: bool = False
    ) -> TurnResult:
        if skill not in HANDLERS:
            skill = "out_of_scope"
        frame: dict[str, Any] = {"skill": skill, "slots": {}}
        if text_is_label:  # a button's label ("Bin days") carries no slot value
            self.text = ""
        step = HANDLERS[skill](self._ctx(frame, fresh=True))
        return self._finish(skill, confidence, step, frame=frame)

    def _continue(self, frame: dict[str, Any]) -> TurnResult:
        skill = str(frame["skill"])
        slots = frame.setdefault("slots", {})
        quick = self._quick_skill()
        if quick is not None and quick != skill:
            return self._digress(frame, quick)
        expects = EXPECTS.get(skill)
        if self._asks_for_person(skill):
            # "I want to talk to a person" is never an answer to a question (a permit
            # finder's choice took it as one and asked again).
            return self._digress(frame, "human_handoff")
        if expects is not None and not expects(slots, self.text):
            other = self._digression(skill)
            if other is not None:
                return self._digress(frame, other)
        asked_before = slots.get("_ask")
        step = HANDLERS[skill](self._ctx(frame))
        if not step.done and asked_before and slots.get("_ask") == asked_before:
            frame["repeats"] = int(frame.get("repeats") or 0) + 1
            if frame["repeats"] >= REPEATS_BEFORE_HELP:
                step.messages[-1] = _with_help(step.messages[-1], self)
        else:
            frame["repeats"] = 0
        return self._finish(skill, None, step, frame=frame)

    def _asks_for_person(self, active: str) -> bool:
        if active == "human_handoff" or "human_handoff" not in HANDLERS:
            return False
        understood = self.understanding()
        return (
            understood.skill == "human_handoff"
            and not understood.ambiguous
            and understood.confidence >= PERSON_CONFIDENCE
        )

    def _digression(self, active: str) -> str | None:
        understood = self.understanding()
        if understood.ambiguous or understood.skill in NOT_A_DIGRESSION:
            return None
        if understood.skill == active or understood.skill not in HANDLERS:
            return None
        return understood.skill

    def _digress(self, frame: dict[str, Any], skill: str) -> TurnResult:
        self.state["stack"].append(frame)
        self.state["frame"] = None
        label = self._quick_skill() == skill
        understood = self._understood
        result = self._start(
            skill,
            confidence=understood.confidence if understood else None,
            text_is_label=label,
        )
        result.data["digression_from"] = frame["skill"]
        return result

    def _finish(
        self,
        skill: str,
        confidence: float | None,
        step: Step,
        *,
        frame: dict[str, Any] | None,
    ) -> TurnResult:
        messages = list(step.messages)
        self.state["fallbacks"] = self.state["fallbacks"] + 1 if step.fallback else 0
        if not step.fallback:
            self.state["rephrasings"] = 0
        if step.done:
            self.state["frame"] = None
            if self.state["stack"] and step.outcome != "handed_off":
                messages.extend(self._return())
        else:
            self.state["frame"] = frame
        data = dict(step.data)
        if self._understood is not None and self._understood.entities:
            data["entities"] = _plain(self._understood.entities)
        return TurnResult(messages, skill, confidence, step.outcome, step.fallback, data)

    def _return(self) -> list[BotMessage]:
        """Back to the skill a digression interrupted: its question again."""
        frame = self.state["stack"].pop()
        self.state["frame"] = frame
        skill = str(frame["skill"])
        step = HANDLERS[skill](self._ctx(frame, resume=True))
        if step.done:  # nothing left to ask: it finished meanwhile
            self.state["frame"] = None
            return step.messages
        task = _tasks().get(skill, skill_title(skill, self.language))
        first, *rest = step.messages
        lead = _("Back to your %(task)s:") % {"task": task}
        return [_prefixed(first, lead), *rest]


def _cancel_label(engine: Engine) -> str:
    return skills_load()["report_issue"].prompt("cancel", engine.language)


def _prefixed(bot: BotMessage, lead: str) -> BotMessage:
    return BotMessage(
        text=f"{lead} {bot.text}",
        quick_replies=bot.quick_replies,
        sources=bot.sources,
        extra=bot.extra,
    )


def _with_help(bot: BotMessage, engine: Engine) -> BotMessage:
    """The question again, with a way out: a person, or cancelling."""
    person = skill_title("human_handoff", engine.language)
    cancel = _cancel_label(engine)
    extra = tuple(QuickReply(label=x, text=x) for x in (person, cancel))
    return BotMessage(
        text=bot.text,
        quick_replies=bot.quick_replies + extra,
        sources=bot.sources,
        extra=bot.extra,
    )


def _plain(value: Any) -> Any:
    """Entities as JSON: places and dates as text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def frustrated_handoff(conversation: Conversation, *, language: str) -> list[BotMessage]:
    """Hand a frustrated resident to a person (the tone check's decision)."""
    ctx = Ctx(conversation=conversation, text="", language=language, slots={}, memory={})
    return human_handoff(ctx, reason="frustrated").messages
