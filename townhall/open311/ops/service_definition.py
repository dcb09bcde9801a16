"""GET services/{service_code}: the questions asked for one service type."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from townhall.catalog.models import AttributeDefinition, ServiceType
from townhall.catalog.selectors import service_type_get
from townhall.open311.jurisdiction import jurisdiction_for
from townhall.open311.mapping import attribute_from_definition
from townhall.open311.render import Open311Error, open311_view, respond


@require_GET
@open311_view
def service_definition_view(request: HttpRequest, service_code: str, *, fmt: str) -> HttpResponse:
    jurisdiction = jurisdiction_for(request)
    try:
        service = service_type_get(code=service_code, jurisdiction=jurisdiction)
    except ServiceType.DoesNotExist as exc:
        raise Open311Error(404, f"service_code {service_code!r} not found.") from exc
    attributes = AttributeDefinition.objects.filter(service_type=service).order_by("order", "pk")
    data = {
        "service_code": service.code,
        "attributes": [attribute_from_definition(a) for a in attributes],
    }
    return respond(
        fmt,
        data,
        root="service_definition",
        item=None,
        item_names={"attributes": "attribute", "values": "value"},
    )
