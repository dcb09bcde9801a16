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


COUNCIL_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Council tax - Some Council</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Council tax</h1><p>Pay your council tax online.</p></main>
<script src="/static/assistant/widget.js" data-townhall="%s" defer></script>
</body></html>"""


def council_page(request: HttpRequest) -> HttpResponse:
    """Another site's page with nothing but the one script tag, under a strict CSP: no
    inline script or style at all, connections to this origin only (ws: included)."""
    origin = f"{request.scheme}://{request.get_host()}"
    response = HttpResponse(COUNCIL_PAGE % origin)
    response["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'"
    )
    return response


urlpatterns = [
    *site,
    path("api/assistant/messages", messages_standin),
    path("test/agent-says", agent_says),
    path("test/council-page", council_page),
]
