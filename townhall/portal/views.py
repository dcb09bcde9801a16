"""The portal's front door: the home page with the services by group and the most used
ones, the service finder, the health check and the one-click opt-out from messages.

The report journey lives in report_views.py, the pages after a report (confirmation,
tracking, following, reopening, the resident's own updates) in case_views.py and
case_owner_views.py. Every page works without JavaScript; bad input re-renders the form
with messages, never a 500.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import groupby

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from townhall.catalog.i18n import language_words, localized
from townhall.catalog.models import ServiceType
from townhall.catalog.selectors import service_type_list
from townhall.core.errors import NotFound
from townhall.notify.services import opt_out_by_token
from townhall.portal import finder
from townhall.portal.forms import ServiceSearchForm, TrackForm
from townhall.portal.selectors import service_popularity

POPULAR_COUNT = 6
_index: list[tuple[float, list[finder.Indexed]]] = []


# --- finding a service ---------------------------------------------------------------------


def _services() -> list[ServiceType]:
    return list(service_type_list())


def _finder_index(services: list[ServiceType]) -> list[finder.Indexed]:
    """The finder's index of the catalogue, rebuilt at most once a minute per process."""
    if _index and _index[0][0] > time.monotonic():
        return _index[0][1]
    built = finder.index_build(_finder_rows(services))
    _index[:] = [(time.monotonic() + 60.0, built)]
    return built


def _finder_rows(
    services: list[ServiceType],
) -> Iterator[tuple[str, str, list[str], str, str]]:
    """Each service with its words in every language the council translated it into, so
    "bache" finds the pothole whichever language the page is in."""
    for s in services:
        names, keywords, descriptions = [s.name], list(s.keywords or []), [s.description]
        for _language, name, words, description in language_words(s.translations):
            names.append(name)
            keywords.extend(words)
            descriptions.append(description)
        groups = [s.group.name, *(g[1] for g in language_words(s.group.translations))]
        yield s.code, " ".join(names), keywords, " ".join(groups), " ".join(descriptions)


@require_GET
def home_view(request: HttpRequest) -> HttpResponse:
    services = _services()
    counts = service_popularity()
    popular = sorted(services, key=lambda s: (-counts.get(s.pk, 0), localized(s, "name")))
    popular = popular[:POPULAR_COUNT]
    in_order = sorted(
        services,
        key=lambda s: (finder.fold(localized(s.group, "name")), finder.fold(localized(s, "name"))),
    )
    groups = [(group, list(items)) for group, items in groupby(in_order, key=lambda s: s.group)]
    return render(
        request,
        "portal/home.html",
        {
            "groups": groups,
            "popular": [s for s in popular if counts.get(s.pk)],
            "form": TrackForm(),
            "search_form": ServiceSearchForm(),
        },
    )


@require_GET
def services_view(request: HttpRequest) -> HttpResponse:
    form = ServiceSearchForm(request.GET or None)
    results: list[ServiceType] = []
    status = 200
    if form.is_valid():
        services = _services()
        by_code = {s.code: s for s in services}
        counts = service_popularity()
        found = finder.search(form.cleaned_data["q"], _finder_index(services), limit=10)
        # Equal scores: the service more people use first.
        found.sort(key=lambda f: (-f.score, -counts.get(by_code[f.code].pk, 0), f.code))
        results = [by_code[f.code] for f in found if f.code in by_code]
    elif request.GET:
        status = 400
    return render(
        request,
        "portal/services.html",
        {"search_form": form, "results": results, "searched": form.is_bound},
        status=status,
    )


# --- the platform ------------------------------------------------------------------------


@require_GET
def health_view(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


@csrf_exempt  # mail clients post RFC 8058 one-click requests; the signed token is the proof
@require_http_methods(["GET", "POST"])
def opt_out_view(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        return render(request, "portal/opt_out.html", {"token": token, "done": False})
    try:
        opt_out = opt_out_by_token(token=token)
    except NotFound:
        return render(request, "portal/opt_out.html", {"invalid": True}, status=404)
    return render(
        request, "portal/opt_out.html", {"done": True, "channel": opt_out.get_channel_display()}
    )
