"""POST requests: a new service request from an Open311 client, through the case services."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from townhall.catalog.models import Open311Type, ServiceType
from townhall.catalog.selectors import service_type_get
from townhall.core.errors import ValidationFailed
from townhall.intake.messages import Dedupe, Message, Place, Sender
from townhall.intake.services import IntakeResult, intake_submit
from townhall.open311.jurisdiction import jurisdiction_for
from townhall.open311.keys import api_key_check
from townhall.open311.models import RequestToken
from townhall.open311.render import Open311Error, error_response, open311_view, respond
from townhall.people.models import Channel

DESCRIPTION_MAX = 4000
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")


def _float(raw: str, name: str) -> float | None:
    if not raw.strip():
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise Open311Error(400, f"{name} must be a decimal number.") from exc


def _answers(request: HttpRequest) -> dict[str, object]:
    answers: dict[str, object] = {}
    for field in request.POST:
        match = _ATTRIBUTE.match(field)
        if match:
            values = request.POST.getlist(field)
            answers[match.group(1)] = values if match.group(2) else values[-1]
    return answers


@csrf_exempt
@require_POST
@open311_view
def request_create_view(request: HttpRequest, *, fmt: str) -> HttpResponse:
    api_key_check(request.POST.get("api_key", ""), request)
    jurisdiction = jurisdiction_for(request)
    post = request.POST
    code = post.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code is required.")
    try:
        service = service_type_get(code=code, jurisdiction=jurisdiction)
    except ServiceType.DoesNotExist as exc:
        raise Open311Error(404, f"service_code {code!r} not found.") from exc
    lat, long = _float(post.get("lat", ""), "lat"), _float(post.get("long", ""), "long")
    address, address_id = post.get("address_string", "").strip(), post.get("address_id", "").strip()
    if lat is None and long is None and not address and not address_id:
        raise Open311Error(
            400, "A location is required: lat and long, address_string or address_id."
        )
    description = post.get("description", "")
    if len(description) > DESCRIPTION_MAX:
        raise Open311Error(400, f"description must be at most {DESCRIPTION_MAX} characters.")
    name = " ".join(p for p in (post.get("first_name", ""), post.get("last_name", "")) if p).strip()
    email, phone = post.get("email", "").strip(), post.get("phone", "").strip()
    batch = service.open311_type != Open311Type.REALTIME
    kept = {k: v for k, v in post.items() if k != "api_key"}
    tokens: list[RequestToken] = []

    def token_for(result: IntakeResult) -> None:
        # A batch service answers with a token, written in the case's own transaction.
        assert result.case is not None  # a chosen service with SUGGEST always opens a case
        if batch:
            tokens.append(
                RequestToken.objects.create(token=secrets.token_hex(16), case_id=result.case.pk)
            )

    try:
        result = intake_submit(
            Message(
                channel=Channel.OPEN311,
                sender=Sender(email=email, phone=phone, name=name),
                text=description,
                place=Place(lat=lat, long=long, address=address, address_id=address_id),
                service=service,
                answers=_answers(request),
                media_url=post.get("media_url", "").strip(),
                # The client owns the id it gets back: duplicates are for staff to merge.
                dedupe=Dedupe.SUGGEST,
                source=jurisdiction.open311_id,
                raw=urlencode(kept),
            ),
            then=token_for,
        )
        case = result.case
        assert case is not None
        token = tokens[0] if tokens else None
    except ValidationFailed as exc:
        errors = [
            Open311Error(400, f"{field}: {message}")
            for field, messages in exc.details.items()
            for message in messages
        ] or [Open311Error(400, exc.message)]
        return error_response(fmt, errors)
    item: dict[str, object] = {"service_notice": None, "account_id": post.get("account_id") or None}
    if token is not None:
        item = {"token": token.token, **item}
    else:
        item = {"service_request_id": case.reference, **item}
    return respond(fmt, [item], root="service_requests", item="request")
