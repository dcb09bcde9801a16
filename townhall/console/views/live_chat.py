"""The live chat: conversations the assistant handed to a person, taken and answered here.

Pages are addressed by the conversation's row id, never its key (the key is the resident's
secret: it must not reach a staff URL, a log or a Referer). New messages arrive by htmx
polling of small fragments every few seconds; every write is a call to
`assistant.services_live`, which checks who may do what.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from townhall.assistant.selectors_live import (
    live_chat_may_oversee,
    live_chat_may_work,
    live_chat_open,
    live_conversation_get,
    live_queue,
    live_teach_candidates,
    live_transcript,
)
from townhall.assistant.services_live import (
    LiveChatRefused,
    agent_reply,
    conversation_close,
    conversation_release,
    conversation_take,
    skill_example_add,
)
from townhall.assistant.skills import skills_load
from townhall.console.queues import QUEUES
from townhall.console.views.common import staff_required
from townhall.core import clock
from townhall.core.errors import ValidationFailed
from townhall.core.security import SecurityEventKind, security_event


def _may_work(request: HttpRequest) -> None:
    if not live_chat_may_work(request.user):
        raise PermissionDenied


@require_GET
@staff_required
def live_queue_view(request: HttpRequest) -> HttpResponse:
    """Conversations waiting for a person, oldest first, and those this person has."""
    _may_work(request)
    template = (
        "console/live_chat_queue_table.html"
        if getattr(request, "htmx", False)
        else "console/live_chat.html"
    )
    return render(
        request,
        template,
        {
            "queues": QUEUES,
            "entries": live_queue(user=request.user),
            "open_now": live_chat_open(),
            "now": clock.now(),
        },
    )


@require_GET
@staff_required
def live_conversation_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The transcript and, for the person who took it, the reply box."""
    _may_work(request)
    conversation = live_conversation_get(user=request.user, conversation_id=conversation_id)
    if conversation is None:
        raise Http404
    context = {
        "queues": QUEUES,
        "conversation": conversation,
        "turns": live_transcript(conversation=conversation),
        "mine": conversation.status == "agent" and conversation.agent_id == request.user.pk,
        "may_release": conversation.status == "agent" and live_chat_may_oversee(request.user),
        "skills": sorted(skills_load()),
    }
    if getattr(request, "htmx", False):
        return render(request, "console/live_chat_turns.html", context)
    if conversation.citizen_id is not None:  # a signed-in resident's words: logged, like a call
        security_event(
            SecurityEventKind.RESIDENT_VIEWED,
            request=request,
            subject=f"citizen:{conversation.citizen_id}",
            detail={"via": "live chat", "conversation": conversation.pk},
        )
    return render(request, "console/live_chat_conversation.html", context)


def _act(request: HttpRequest, conversation_id: int, action: str) -> HttpResponse:
    _may_work(request)
    actions = {
        "take": conversation_take,
        "release": conversation_release,
        "close": conversation_close,
    }
    try:
        actions[action](conversation_id=conversation_id, user=request.user)
    except LiveChatRefused as exc:
        messages.error(request, exc.message)
        return redirect("console:live-chat")
    done = {
        "take": _("You have joined the chat."),
        "release": _("The chat is back in the queue."),
        "close": _("The chat has ended."),
    }
    messages.success(request, done[action])
    if action == "take":
        return redirect("console:live-chat-conversation", conversation_id=conversation_id)
    return redirect("console:live-chat")


@require_POST
@staff_required
def live_take_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    return _act(request, conversation_id, "take")


@require_POST
@staff_required
def live_release_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    return _act(request, conversation_id, "release")


@require_POST
@staff_required
def live_close_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    return _act(request, conversation_id, "close")


@require_POST
@staff_required
def live_reply_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Send a reply to the resident's widget."""
    _may_work(request)
    try:
        agent_reply(
            conversation_id=conversation_id,
            user=request.user,
            text=request.POST.get("text", ""),
        )
    except LiveChatRefused as exc:
        messages.error(request, exc.message)
        return redirect("console:live-chat")
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    return redirect("console:live-chat-conversation", conversation_id=conversation_id)


@require_http_methods(["GET", "POST"])
@staff_required
def live_teach_view(request: HttpRequest) -> HttpResponse:
    """Teach the assistant: a question it could not answer becomes an example of a skill."""
    _may_work(request)
    if request.method == "POST":
        try:
            example = skill_example_add(
                user=request.user,
                skill=request.POST.get("skill", ""),
                text=request.POST.get("text", ""),
                language=request.POST.get("language", "en"),
            )
        except ValidationFailed as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("The assistant will now recognise “%(text)s” as %(skill)s.")
                % {"text": example.text, "skill": example.skill},
            )
        return redirect("console:live-chat-teach")
    return render(
        request,
        "console/live_chat_teach.html",
        {"queues": QUEUES, "rows": live_teach_candidates(), "skills": sorted(skills_load())},
    )
