"""What every skill handler sees and returns: the turn's context and the step it takes.

A skill is re-entrant: the engine calls `run(ctx)` on the turn that starts it and on every
later turn while it is the active skill, with its own `slots` (kept in the conversation's
state between turns). It either finishes (`done`) or waits for an answer to the slot it
asked for (`slots["_ask"]`). `resume=True` asks it only to repeat its question, after a
digression returned to it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.urls import reverse

from townhall.assistant.models import Conversation
from townhall.assistant.nlu import Understanding
from townhall.assistant.replies import BotMessage, QuickReply, Source
from townhall.assistant.skills import skills_load


@dataclass
class Ctx:
    conversation: Conversation
    text: str
    language: str
    slots: dict[str, Any]
    # Facts worth keeping across skills (the address a report gave serves the bin days).
    memory: dict[str, Any]
    understanding: Understanding | None = None
    photos: Sequence[str] = ()
    citizen_id: int | None = None
    fresh: bool = False  # the turn that started the skill
    resume: bool = False  # only repeat the pending question
    fallbacks: int = 0  # fallbacks in a row before this turn

    def say(self, skill: str, name: str, **values: Any) -> str:
        """The skill's prompt `name` in the conversation's language, filled in."""
        text = skills_load()[skill].prompt(name, self.language)
        return text % values if values else text


@dataclass
class Step:
    messages: list[BotMessage] = field(default_factory=list)
    done: bool = True
    # "contained", "filed" or "handed_off" when this step settles the conversation.
    outcome: str = ""
    fallback: bool = False
    # Data kept on the resident's turn (entities read, the article given...).
    data: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Ctx], Step]


def message(
    text: str,
    *,
    quick: Sequence[tuple[str, str] | str] = (),
    sources: Sequence[Source] = (),
    **extra: Any,
) -> BotMessage:
    """A bot message; `quick` are (label, text) pairs, or labels sent as they read."""
    replies = tuple(
        QuickReply(label=q, text=q) if isinstance(q, str) else QuickReply(label=q[0], text=q[1])
        for q in quick
    )
    return BotMessage(text=text, quick_replies=replies, sources=tuple(sources), extra=extra)


def public_url(path: str) -> str:
    """An absolute link to a public page (SMS needs absolute links; the widget too,
    when it sits on another council page)."""
    return settings.TOWNHALL_PUBLIC_URL.rstrip("/") + path


def page(name: str, *args: Any) -> str:
    """The public address of a portal page, by its route name."""
    return public_url(reverse(f"portal:{name}", args=args))


def skill_title(skill: str, language: str) -> str:
    return skills_load()[skill].prompt("title", language)


# What the assistant offers when the resident does not know what to ask.
CAPABILITIES = ("faq", "waste_schedule", "report_issue", "case_status", "permit_finder")


def capability_replies(language: str, *, person: bool = False) -> list[str]:
    labels = [skill_title(s, language) for s in CAPABILITIES]
    if person:
        labels.append(skill_title("human_handoff", language))
    return labels
