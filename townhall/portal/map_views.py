"""The maps' own layer: the town's streets from the gazetteer and the council's boundary,
drawn by the portal's and the console's maps when no tile server is set or reachable
(so the demo downloads nothing at run time). Street names and lines only: no address."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from townhall.catalog.selectors import jurisdiction_list
from townhall.places.streets import streets_geojson


@require_GET
def streets_view(request: HttpRequest) -> JsonResponse:
    features: list[dict[str, Any]] = [
        {**f, "properties": {**f["properties"], "kind": "street"}}
        for f in streets_geojson()["features"]
    ]
    features += [
        {
            "type": "Feature",
            "properties": {"kind": "boundary", "name": j.name},
            "geometry": j.boundary,
        }
        for j in jurisdiction_list()
        if j.boundary
    ]
    response = JsonResponse({"type": "FeatureCollection", "features": features})
    response["Content-Type"] = "application/geo+json"
    response["Cache-Control"] = "public, max-age=300"
    return response
