"""GET tokens/{token}: the service_request_id a batch submission became."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from townhall.cases.models import Case
from townhall.open311.models import RequestToken
from townhall.open311.render import Open311Error, open311_view, respond


@require_GET
@open311_view
def token_get_view(request: HttpRequest, token: str, *, fmt: str) -> HttpResponse:
    found = RequestToken.objects.filter(token=token).first()
    if found is None:
        raise Open311Error(404, f"token {token!r} not found.")
    case = Case.objects.filter(pk=found.case_id).first() if found.case_id else None
    data = [{"service_request_id": case.reference if case else None, "token": found.token}]
    return respond(fmt, data, root="service_requests", item="request")
