"""Test routes for the widget's browser tests: the site's own, then two stand-ins.

`POST /api/assistant/messages` is the dialogue API's route; the stand-in below only answers
while that route is missing (the site's routes come first), with the same contract: the
JSON of the Reply that `message_receive` returns. `POST /test/agent-says` does what the
console does when an agent answers: store the turn, push it to the resident's sockets.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from townhall.assistant import services
from townhall.assistant.live import conversation_push
from townhall.assistant.models import Conversation, Turn
from townhall.urls import urlpatterns as site


def messages_standin(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body)
    reply = services.message_receive(
        conversation=body.get("conversation"),
        text=body.get("text", ""),
        language=body.get("language", "en"),
        photos=body.get("photos", []),
    )
    return JsonResponse(reply.as_json())


@csrf_exempt  # test-only: the console has its own CSRF-protected form
def agent_says(request: HttpRequest) -> HttpResponse:
    key, text = request.POST["key"], request.POST["text"]
    conversation = Conversation.objects.get(key=key)
    if request.POST.get("status"):
        conversation.status = request.POST["status"]
        conversation.save(update_fields=["status"])
        conversation_push(key, {"type": "status", "status": conversation.status})
    turn = Turn.objects.create(conversation=conversation, role="agent", text=text)
    conversation_push(
        key, {"type": "message", "messages": [{"text": text, "role": "agent", "turn": turn.pk}]}
    )
    return HttpResponse(status=204)


urlpatterns = [
    *site,
    path("api/assistant/messages", messages_standin),
    path("test/agent-says", agent_says),
]
