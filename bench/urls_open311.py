"""The product's routes plus `/bench/minimal.json`, the reference the API is measured against:
the same server, middleware and worker, but a view that does no work."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from townhall.urls import urlpatterns as product


def minimal(request: HttpRequest) -> JsonResponse:
    return JsonResponse([{"ok": True}], safe=False)


urlpatterns = [path("bench/minimal.json", minimal), *product]
