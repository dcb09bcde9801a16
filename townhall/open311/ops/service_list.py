"""GET services: the service types residents can report, with their groups and keywords."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from townhall.catalog.models import AttributeDefinition
from townhall.catalog.selectors import service_type_list
from townhall.open311.jurisdiction import jurisdiction_for
from townhall.open311.mapping import service_from_type
from townhall.open311.render import open311_view, respond


@require_GET
@open311_view
def service_list_view(request: HttpRequest, *, fmt: str) -> HttpResponse:
    jurisdiction = jurisdiction_for(request)
    services = (
        service_type_list()
        .filter(jurisdiction=jurisdiction)
        .annotate(
            has_attributes=Exists(AttributeDefinition.objects.filter(service_type=OuterRef("pk")))
        )
    )
    data = [service_from_type(s, has_attributes=s.has_attributes) for s in services]
    return respond(fmt, data, root="services", item="service")
