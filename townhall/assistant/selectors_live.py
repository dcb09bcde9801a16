"""Reads of the live chat: who may work it, whether a person is there now, the queue and
a conversation's transcript for staff.

Who sees the live-chat queue: active staff with the contact-centre permission
`cases.log_call` (every console role has it; council admins are superusers), and, when
`TOWNHALL_LIVE_CHAT_GROUP` names a group, only its members (and superusers). The queue is
not split by department: a resident in the chat has not chosen one yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet

from townhall.assistant.models import Conversation, Turn
from townhall.catalog.selectors import jurisdiction_list, working_calendar_get
from townhall.core import clock
from townhall.knowledge.selectors import search_gaps

LIVE_CHAT_PERMISSION = "cases.log_call"
# Supervisors see every chat in progress and can give a stuck one back to the queue.
OVERSEE_PERMISSION = "cases.supervise_case"
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(
    r"^\s*(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?\s+"
    r"(?P<opens>\d{1,2}:\d{2})\s*-\s*(?P<closes>\d{1,2}:\d{2})\s*$",
    re.IGNORECASE,
)


def live_chat_may_work(user: Any) -> bool:
    """May `user` see the live-chat queue, take conversations and answer them?"""
    if not (
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_staff", False)
        and getattr(user, "is_active", False)
    ):
        return False
    if user.is_superuser:
        return True
    if not user.has_perm(LIVE_CHAT_PERMISSION):
        return False
    group = getattr(settings, "TOWNHALL_LIVE_CHAT_GROUP", "")
    return not group or user.groups.filter(name=group).exists()


def live_chat_may_oversee(user: Any) -> bool:
    """May `user` see chats colleagues have taken, and give them back to the queue?"""
    return live_chat_may_work(user) and (user.is_superuser or user.has_perm(OVERSEE_PERMISSION))


def _hours_setting(value: str, moment: datetime) -> bool:
    """`Mon-Fri 09:00-17:00` (several ranges separated by `;`) in the site's time zone."""
    local = moment.astimezone(ZoneInfo(settings.TIME_ZONE))
    for part in value.split(";"):
        found = _HOURS.match(part)
        if not found:
            continue
        first = _DAYS.index(found["first"].lower())
        last = _DAYS.index((found["last"] or found["first"]).lower())
        days = range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        opens, closes = (time.fromisoformat(found[k].zfill(5)) for k in ("opens", "closes"))
        if local.weekday() in days and opens <= local.time() < closes:
            return True
    return False


def live_chat_open(*, at: datetime | None = None) -> bool:
    """Is a person there to take a chat now?

    `TOWNHALL_LIVE_CHAT_HOURS` ("Mon-Fri 09:00-17:00") when set; otherwise the first
    council's business calendar (opening hours, working days, public holidays, closures).
    """
    moment = at or clock.now()
    hours = getattr(settings, "TOWNHALL_LIVE_CHAT_HOURS", "")
    if hours:
        return _hours_setting(hours, moment)
    councils = jurisdiction_list()
    if not councils:
        return _hours_setting("Mon-Fri 09:00-17:00", moment)
    calendar = working_calendar_get(calendar_id=councils[0].calendar_id)
    return calendar.next_working_moment(moment) == moment.astimezone(calendar.tz)


@dataclass(frozen=True)
class QueueEntry:
    conversation: Conversation
    waiting_since: datetime | None
    skill: str
    slots: dict[str, Any]
    last: list[Turn]


def live_queue(*, user: Any) -> list[QueueEntry]:
    """Conversations waiting for a person (oldest first), then those with `user` (with
    anyone, for supervisors)."""
    if not live_chat_may_work(user):
        return []
    taken = Conversation.objects.filter(status=Conversation.Status.AGENT)
    if not live_chat_may_oversee(user):
        taken = taken.filter(agent=user)
    rows = list(
        Conversation.objects.filter(status=Conversation.Status.QUEUED).order_by("queued_at", "pk")
    ) + list(taken.select_related("agent").order_by("taken_at", "pk"))
    entries = []
    for conversation in rows:
        state = conversation.state or {}
        last = list(
            conversation.turns.exclude(role=Turn.Role.SYSTEM).order_by("-created_at", "-pk")[:3]
        )
        skill = str(state.get("skill") or state.get("active_skill") or "")
        if not skill:  # what the assistant made of the resident's last message
            said = [t for t in last if t.role == Turn.Role.RESIDENT and t.skill]
            skill = said[0].skill if said else ""
        entries.append(
            QueueEntry(
                conversation=conversation,
                waiting_since=conversation.queued_at,
                skill=skill,
                slots=_slots_of(state),
                last=last[::-1],
            )
        )
    return entries


def _slots_of(state: dict[str, Any]) -> dict[str, Any]:
    """What the bot understood, for staff: slots and entities, plain values only."""
    found: dict[str, Any] = {}
    for key in ("slots", "entities"):
        value = state.get(key)
        if isinstance(value, dict):
            for name, item in value.items():
                if isinstance(item, dict):
                    item = item.get("label") or item.get("value") or ""
                if item not in ("", None) and not isinstance(item, (list, dict)):
                    found[str(name)] = str(item)[:120]
    return found


def live_conversation_get(*, user: Any, conversation_id: int) -> Conversation | None:
    """The conversation, if `user` works the live chat and it is queued or theirs (or, for
    supervisors, with a colleague); None otherwise (the same answer as a wrong id)."""
    if not live_chat_may_work(user):
        return None
    found = Conversation.objects.filter(pk=conversation_id).first()
    if found is None:
        return None
    if found.status == Conversation.Status.QUEUED:
        return found
    if found.agent_id == user.pk:
        return found
    if found.status == Conversation.Status.AGENT and live_chat_may_oversee(user):
        return found
    return None


def live_transcript(*, conversation: Conversation, after: int = 0) -> QuerySet[Turn]:
    """The conversation's turns in order (those after turn id `after`)."""
    return (
        conversation.turns.filter(pk__gt=after)
        .select_related("author")
        .order_by("created_at", "pk")
    )


@dataclass(frozen=True)
class TeachCandidate:
    text: str
    language: str
    asked: int  # how many times, in the gap log and the conversations read


def live_teach_candidates(*, limit: int = 100) -> list[TeachCandidate]:
    """Questions the assistant could not answer, most asked first: the knowledge gap log's
    assistant questions (`search_record(source="assistant")`) and resident turns it did not
    understand."""
    found: dict[tuple[str, str], list[Any]] = {}
    asked = [
        (log.query, log.language or "en") for log in search_gaps(limit=500, source="assistant")
    ]
    asked += [(t.text, t.conversation.language or "en") for t in live_unanswered(limit=500)]
    for text, language in asked:
        text = " ".join(text.split())[:500]
        if not text:
            continue
        entry = found.setdefault((text.lower(), language), [text, 0])
        entry[1] += 1
    ranked = sorted(found.items(), key=lambda kv: (-kv[1][1], kv[0][0]))[:limit]
    return [TeachCandidate(text=t, language=lang, asked=n) for (_k, lang), (t, n) in ranked]


def live_unanswered(*, limit: int = 50) -> list[Turn]:
    """Recent resident turns the assistant did not understand: candidates to teach."""
    return list(
        Turn.objects.select_related("conversation")
        .filter(role=Turn.Role.RESIDENT, skill__in=("", "out_of_scope"))
        .exclude(text="")
        .order_by("-created_at")[:limit]
    )
