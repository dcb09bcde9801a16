"""POST requests: a new service request from an Open311 client, through the case services."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from townhall.catalog.models import Open311Type, ServiceType
from townhall.catalog.selectors import service_type_get
from townhall.core.errors import ValidationFailed
from townhall.intake.messages import Dedupe, IncomingMessage, Location, Sender
from townhall.intake.services import IntakeResult, intake_submit
from townhall.open311.jurisdiction import jurisdiction_for
from townhall.open311.keys import api_key_check
from townhall.open311.models import RequestToken
from townhall.open311.params import RequestCreateParams, attribute_answers, params_parse
from townhall.open311.render import Open311Error, error_response, open311_view, respond
from townhall.people.models import Channel


@csrf_exempt
@require_POST
@open311_view
def request_create_view(request: HttpRequest, *, fmt: str) -> HttpResponse:
    api_key_check(request.POST.get("api_key", ""), request)
    jurisdiction = jurisdiction_for(request)
    post = request.POST
    params = params_parse(RequestCreateParams, post)
    code = params.service_code
    try:
        service = service_type_get(code=code, jurisdiction=jurisdiction)
    except ServiceType.DoesNotExist as exc:
        raise Open311Error(404, f"service_code {code!r} not found.") from exc
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
            IncomingMessage(
                channel=Channel.OPEN311,
                sender=Sender(email=params.email, phone=params.phone, name=params.name),
                text=params.description,
                place=Location(
                    lat=params.lat,
                    long=params.long,
                    address=params.address_string,
                    address_id=params.address_id,
                ),
                service=service,
                answers=attribute_answers(post),
                media_url=params.media_url,
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
    item: dict[str, object] = {"service_notice": None, "account_id": params.account_id or None}
    if token is not None:
        item = {"token": token.token, **item}
    else:
        item = {"service_request_id": case.reference, **item}
    return respond(fmt, [item], root="service_requests", item="request")
