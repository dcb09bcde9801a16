"""The product's routes plus the two references the API is measured against, on the same
server, middleware and worker:

- `/bench/minimal.json`: a view that does no work (the floor of the stack);
- `/bench/insert.json` (POST): the same single INSERT a report needs and nothing else —
  one case-sized row (the posted description, address and point; an open pothole, so
  every partial index of open cases takes it) into `cases_case` with raw SQL, in its
  own transaction with a durable COMMIT, answering the new id as JSON. No API key, no
  validation, no history, no rate limit: what a POST costs above it is Townhall's.
"""

from functools import cache

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from townhall.urls import urlpatterns as product


def minimal(request: HttpRequest) -> JsonResponse:
    return JsonResponse([{"ok": True}], safe=False)


@cache
def _pothole() -> tuple[int, int]:
    """The pothole service's key and department, read once per process."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, department_id FROM catalog_servicetype WHERE code = 'pothole'")
        row = cursor.fetchone()
    return int(row[0]), int(row[1])


_INSERT = """
INSERT INTO cases_case (service_type_id, department_id, description, public_description,
  public_summary, track_key, answers, lat, long, address, address_id, media_url, channel,
  priority, status, due_at, opened_at, updated_at)
VALUES (%s, %s, %s, %s, '', '', %s::jsonb, %s, %s, %s, '', '', 'open311', 'normal', 'new',
  now() + interval '2 days', now(), now())
RETURNING id
"""


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@csrf_exempt
@require_POST
def bare_insert(request: HttpRequest) -> JsonResponse:
    service, department = _pothole()
    description = request.POST.get("description", "")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _INSERT,
            [
                service,
                department,
                description,
                description,
                '{"depth": "deep"}',
                _number(request.POST.get("lat", "")),
                _number(request.POST.get("long", "")),
                request.POST.get("address_string", ""),
            ],
        )
        key = cursor.fetchone()[0]
    return JsonResponse([{"service_request_id": str(key)}], safe=False)


urlpatterns = [
    path("bench/minimal.json", minimal),
    path("bench/insert.json", bare_insert),
    *product,
]
