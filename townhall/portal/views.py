"""Citizen-facing pages: find a service, report with questions, place and photos, see
nearby reports first, get a reference and a date, track, follow and reopen.

Every page works without JavaScript: the map and "use my location" only fill the same
fields a typed address fills. Bad input re-renders the form with messages; never a 500.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import groupby
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from townhall.cases.errors import CaseNotFound, InvalidCaseInput
from townhall.cases.lifecycle import OPEN_STATUSES, CaseStatus
from townhall.cases.models import Case, CaseEvent, CaseEventKind, CasePhoto
from townhall.cases.selectors import (
    case_for_token,
    case_nearby_open,
    case_public_get,
    case_public_text,
    case_public_timeline,
    ledger_proof,
    service_shows_nearby,
)
from townhall.cases.services import (
    case_link_rotate,
    case_reopen_by_resident,
    case_reopen_window_open,
)
from townhall.catalog.i18n import language_words, localized
from townhall.catalog.models import ServiceType
from townhall.catalog.selectors import attribute_specs_for, service_type_get, service_type_list
from townhall.core.dates import long_date
from townhall.core.errors import NotFound, ValidationFailed
from townhall.core.security import SecurityEventKind, security_event
from townhall.intake.selectors_finder import FinderAnswer, service_find
from townhall.notify.services import opt_out_by_token
from townhall.people.models import Channel
from townhall.places.models import Place
from townhall.places.selectors import place_nearest, place_search
from townhall.portal import finder
from townhall.portal.accounts import signed_in_citizen
from townhall.portal.forms import (
    AddressForm,
    FollowForm,
    MeTooForm,
    ReopenForm,
    ReportForm,
    ServiceSearchForm,
    TrackForm,
)
from townhall.portal.links import track_token, track_url
from townhall.portal.services import (
    Location,
    follow_confirm,
    me_too,
    report_submit,
    updates_subscribe,
    voice_key,
)
from townhall.portal.staging import (
    StagedPhotoGone,
    owner_key,
    photo_stage,
    staged_photo_file,
    staged_photo_name,
    staged_photos_discard,
)
from townhall.portal.throttle import portal_rate_limited, posted_email

_STATUS_LABELS = dict(CaseStatus.choices)
POPULAR_COUNT = 6
POPULAR_DAYS = 90
POPULAR_CACHE_SECONDS = 600
# Services whose group is about information, not a place, do not ask where.
NO_LOCATION_GROUPS = frozenset({"general"})
_index: list[tuple[float, list[finder.Indexed]]] = []


def timeline_text(event: CaseEvent) -> str:
    """Return what a resident reads for one public event of their request."""
    data = event.content
    if event.kind == CaseEventKind.OPENED:
        text = _("We received your request.")
    elif event.kind == CaseEventKind.ACKNOWLEDGED:
        text = _("We confirmed your request and set a date to finish by.")
    elif event.kind in {CaseEventKind.STATUS_CHANGED, CaseEventKind.REOPENED}:
        label = _STATUS_LABELS.get(data.get("to", ""), data.get("to", ""))
        text = _("Status: %(status)s.") % {"status": label}
    elif event.kind == CaseEventKind.MERGED:
        text = _("We are handling this together with request %(ref)s.") % {
            "ref": data.get("into", "")
        }
    elif event.kind == CaseEventKind.FOLLOWED:
        text = _("Another resident reported the same problem.")
    elif event.kind == CaseEventKind.DUE_CHANGED:
        when = data.get("expected_on") or ""
        with contextlib.suppress(ValueError):  # keep the raw text of an odd value
            when = long_date(date.fromisoformat(when)) if when else ""
        text = _("We now aim to finish by %(date)s.") % {"date": when}
    elif event.kind == CaseEventKind.SPLIT and data.get("to"):
        text = _("Part of your request is now handled as request %(ref)s.") % {"ref": data["to"]}
    elif event.kind == CaseEventKind.SPLIT:
        text = _("Opened from request %(ref)s.") % {"ref": data.get("from", "")}
    elif event.kind == CaseEventKind.PHOTO_ADDED:
        count = int(data.get("count", 1))
        text = _("%(count)s photo(s) added.") % {"count": count}
    else:
        text = ""
    note = data.get("note") or data.get("text") or ""
    return f"{text} {note}".strip()


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


def _popularity() -> dict[int, int]:
    """Cases per service type over the last 90 days, kept in the cache for 10 minutes."""
    key = "portal:popularity"
    counts: dict[int, int] | None = cache.get(key)
    if counts is None:
        since = timezone.now() - timedelta(days=POPULAR_DAYS)
        counts = dict(
            Case.objects.filter(opened_at__gte=since)
            .values_list("service_type_id")
            .annotate(n=Count("id"))
            .values_list("service_type_id", "n")
        )
        cache.set(key, counts, POPULAR_CACHE_SECONDS)
    return counts


@require_GET
def home_view(request: HttpRequest) -> HttpResponse:
    services = _services()
    counts = _popularity()
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
    answer = FinderAnswer(services=[], articles=[], scores={})
    status = 200
    if form.is_valid():
        answer = service_find(query=form.cleaned_data["q"], language=get_language(), limit=10)
    elif request.GET:
        status = 400
    return render(
        request,
        "portal/services.html",
        {
            "search_form": form,
            "results": answer.services,
            "help_results": answer.articles,
            "ask_service": answer.ask,
            "searched": form.is_bound,
        },
        status=status,
    )


# --- reporting -----------------------------------------------------------------------------


def _service_or_404(code: str) -> ServiceType:
    try:
        service = service_type_get(code=code)
    except ServiceType.DoesNotExist:
        raise Http404(_("There is no such service.")) from None
    if not service.active:
        raise Http404(_("This service is not taking new requests."))
    return service


def needs_location(service: ServiceType) -> bool:
    return service.group.code not in NO_LOCATION_GROUPS


def _float(raw: str | None, low: float, high: float) -> float | None:
    try:
        value = float(raw or "")
    except ValueError:
        return None
    return value if low <= value <= high else None


def _location_from_query(request: HttpRequest) -> tuple[Location | None, dict[str, Any]]:
    """Read the place the resident chose: a gazetteer entry, a map point or their words.

    Return the location (None until one is chosen) and what the location step shows.
    """
    params = request.GET
    shown: dict[str, Any] = {"address_form": AddressForm(), "matches": []}
    place_id = params.get("place", "")
    if place_id.isdigit():
        place = Place.objects.filter(pk=int(place_id)).first()
        if place is not None:
            return Location(place.lat, place.long, place.address, place.property_id), shown
    lat = _float(params.get("lat"), -90, 90)
    long = _float(params.get("long"), -180, 180)
    if lat is not None and long is not None:
        near = place_nearest(lat, long)
        label = (
            near.address
            if near
            else _("Point on the map (%(lat).5f, %(long).5f)")
            % {
                "lat": lat,
                "long": long,
            }
        )
        return Location(lat, long, label, near.property_id if near else ""), shown
    if params.get("use_words") and params.get("address", "").strip():
        return Location(address=params["address"].strip()[:300]), shown
    if "address" in params:
        form = AddressForm(params)
        shown["address_form"] = form
        if form.is_valid():
            shown["searched"] = form.cleaned_data["address"]
            matches = place_search(form.cleaned_data["address"], limit=5)
            if len(matches) == 1 or (matches and matches[0].score >= 99 and matches[1].score < 90):
                p = matches[0].place
                return Location(p.lat, p.long, p.address, p.property_id), shown
            shown["matches"] = matches
            if not matches:
                form.add_error(
                    "address",
                    _(
                        "We could not find that address. Check the spelling, choose the "
                        "place on the map, or describe where it is in your own words."
                    ),
                )
        shown["status"] = 400 if form.errors else 200
    return None, shown


def _photos_kept(request: HttpRequest, form: ReportForm) -> list[tuple[str, str]]:
    """(token, file name) of every photo to offer again after a failed try."""
    kept = []
    owner = ""
    for token_or_name, photo in form.photos_to_keep():
        try:
            if photo is None:
                kept.append((token_or_name, staged_photo_name(token_or_name)))
                continue
            if not owner:  # the session the staging quota counts against
                if not request.session.session_key:
                    request.session.save()
                owner = owner_key(request.session.session_key or "")
            token = photo_stage(photo, filename=token_or_name, owner=owner)
            kept.append((token, token_or_name))
        except (StagedPhotoGone, OSError):
            continue
    return kept


@require_GET
def staged_photo_view(request: HttpRequest, token: str) -> FileResponse:
    """A photo kept between two tries of a report form, for its thumbnail."""
    try:
        name, content_type = staged_photo_file(token)
        handle = default_storage.open(name, "rb")
    except (StagedPhotoGone, OSError):
        raise Http404 from None
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_http_methods(["GET", "POST"])
@portal_rate_limited("report", targets=posted_email)
def report_view(request: HttpRequest, code: str) -> HttpResponse:
    service = _service_or_404(code)
    specs = attribute_specs_for(service_type=service)
    wants_place = needs_location(service)
    context: dict[str, Any] = {"service": service, "wants_place": wants_place}
    map_settings = {
        "tiles": settings.TOWNHALL_MAP_TILE_URL,
        "attribution": settings.TOWNHALL_MAP_ATTRIBUTION,
        "centre": _map_centre(service),
    }
    context["map_settings"] = map_settings
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES, specs=specs, needs_location=wants_place)
        if form.is_valid():
            data = form.cleaned_data
            location = Location(data["lat"], data["long"], data["address"], data["address_id"])
            try:
                case = report_submit(
                    service_type=service,
                    location=location,
                    description=data["description"],
                    answers=form.answers(),
                    photos=data["photos"],
                    name=data["name"],
                    email=data["email"],
                    phone=data["phone"],
                    language=get_language() or "",
                )
            except ValidationFailed as exc:
                _errors_onto(form, exc)
            else:
                staged_photos_discard(form.kept_tokens)
                return redirect("portal:confirmation", token=track_token(case))
        context.update(form=form, step="details", location=_posted_location(request))
        context["kept"] = _photos_kept(request, form)
        return render(request, "portal/report.html", context, status=400)

    chosen, shown = _location_from_query(request)
    context.update(shown)
    if wants_place and chosen is None and not request.GET.get("skip_place"):
        context["step"] = "where"
        return render(request, "portal/report.html", context, status=shown.get("status", 200))
    location = chosen or Location()
    context["step"] = "details"
    context["location"] = location
    if location.lat is not None and location.long is not None and service_shows_nearby(service):
        # What the public page shows, and "me too" by reference: never a private link.
        nearby = case_nearby_open(
            service_type_id=service.pk,
            lat=location.lat,
            long=location.long,
            radius_m=settings.TOWNHALL_DUPLICATE_RADIUS_M,
        )
        context["nearby"] = [(n, case_public_text(n.case)) for n in nearby]
        context["radius_m"] = settings.TOWNHALL_DUPLICATE_RADIUS_M
    context["form"] = ReportForm(
        initial={
            "lat": location.lat,
            "long": location.long,
            "address": location.address,
            "address_id": location.address_id,
        },
        specs=specs,
        needs_location=wants_place,
    )
    return render(request, "portal/report.html", context)


def _posted_location(request: HttpRequest) -> Location:
    return Location(
        _float(request.POST.get("lat"), -90, 90),
        _float(request.POST.get("long"), -180, 180),
        request.POST.get("address", "")[:300],
        request.POST.get("address_id", "")[:64],
    )


def _errors_onto(form: ReportForm, exc: ValidationFailed) -> None:
    """Put the case services' refusals next to the fields they concern."""
    names = {"description": "description", "address_string": "address"}
    for key, problems in (exc.details or {}).items():
        field = names.get(key) or (
            f"attribute_{key}" if f"attribute_{key}" in form.fields else None
        )
        for problem in problems:
            form.add_error(field, problem)
    if not exc.details:
        form.add_error(None, str(exc))


def _map_centre(service: ServiceType) -> tuple[float, float]:
    return service.jurisdiction.centre_lat or 0.0, service.jurisdiction.centre_long or 0.0


# --- after reporting: confirmation, tracking, following, reopening --------------------------


def _case_for_token(token: str) -> Case:
    try:
        return case_for_token(token)
    except CaseNotFound:
        raise Http404(_("We could not find that request.")) from None


def _case_for_reference(reference: str) -> Case:
    """A case others may see and add their voice to: not personal, duplicates not off."""
    try:
        case = case_public_get(reference=reference)
    except CaseNotFound:
        raise Http404(_("We could not find that request.")) from None
    if not service_shows_nearby(case.service_type):
        raise Http404(_("We could not find that request."))
    return case


def _public_page(case: Case) -> HttpResponse:
    return redirect(reverse("portal:track") + "?" + urlencode({"reference": case.reference}))


def _late(case: Case) -> bool:
    today = timezone.localdate()
    return case.status in OPEN_STATUSES and (
        case.breached_at is not None or (case.expected_on is not None and case.expected_on < today)
    )


@require_GET
def confirmation_view(request: HttpRequest, token: str) -> HttpResponse:
    case = _case_for_token(token)
    return render(
        request,
        "portal/confirmation.html",
        {"case": case, "token": token, "track_url": request.build_absolute_uri(track_url(case))},
    )


def _case_context(case: Case, *, private: bool, token: str = "") -> dict[str, Any]:
    timeline = [(e.at, timeline_text(e)) for e in case_public_timeline(case=case)]
    context: dict[str, Any] = {
        "case": case,
        "timeline": timeline,
        "late": _late(case),
        "open": case.status in OPEN_STATUSES,
        "private": private,
        "token": token,
        "public_text": case_public_text(case),
        "can_follow": service_shows_nearby(case.service_type),
    }
    if private:
        context["photos"] = list(case.photos.only("id", "width", "height"))
        context["can_reopen"] = case_reopen_window_open(case)
        context["reopen_days"] = settings.TOWNHALL_REOPEN_DAYS
    return context


@require_GET
def request_view(request: HttpRequest, token: str) -> HttpResponse:
    case = _case_for_token(token)
    context = _case_context(case, private=True, token=token)
    context.update(follow_form=FollowForm(), reopen_form=ReopenForm())
    return render(request, "portal/request.html", context)


@require_GET
def photo_view(request: HttpRequest, token: str, photo_id: int) -> FileResponse:
    case = _case_for_token(token)  # a replaced link shows no photos either
    photo = CasePhoto.objects.filter(pk=photo_id, case_id=case.pk).first()
    if photo is None:
        raise Http404
    try:
        handle = photo.file.open("rb")
    except OSError:
        raise Http404 from None
    response = FileResponse(handle, content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _voice(request: HttpRequest, case: Case) -> str:
    """This browser session's voice on `case` (one "me too" per session and case)."""
    session_voice = request.session.get("voice")
    if not isinstance(session_voice, str):
        session_voice = secrets.token_hex(16)
        request.session["voice"] = session_voice
    return voice_key(session_voice, case)


@require_http_methods(["GET", "POST"])
@portal_rate_limited("follow", targets=posted_email)
def me_too_view(request: HttpRequest, reference: str) -> HttpResponse:
    """ "This is my problem too", reached by reference from the nearby list: the page shows
    what the public page shows, and leads back to the public page, never a private one."""
    case = _case_for_reference(reference)
    form = MeTooForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                followed, added, sent = me_too(
                    case=case,
                    voice=_voice(request, case),
                    email=form.cleaned_data["email"],
                    language=get_language() or "",
                    citizen=signed_in_citizen(request),
                )
            except ValidationFailed as exc:
                form.add_error(None, str(exc))
            else:
                ref = {"ref": followed.reference}
                messages.success(
                    request,
                    _("Thank you. We have added your report to request %(ref)s.") % ref
                    if added
                    else _("You have already added your voice to request %(ref)s.") % ref,
                )
                if sent:
                    messages.info(request, _CHECK_EMAIL)
                return _public_page(followed)
        status = 400
    context = {"case": case, "form": form, "public_text": case_public_text(case)}
    return render(request, "portal/me_too.html", context, status=status)


_CHECK_EMAIL = gettext_lazy(
    "We have sent you an email. Open the link in it to confirm your address: "
    "we will send you updates only once you have."
)


def _follow(request: HttpRequest, case: Case, form: FollowForm) -> Case | None:
    """Act on a valid follow form; return the case, or None with the form's errors."""
    try:
        followed, now = updates_subscribe(
            case=case,
            email=form.cleaned_data["email"],
            language=get_language() or "",
            citizen=signed_in_citizen(request),
        )
    except ValidationFailed as exc:
        form.add_error("email", str(exc))
        return None
    if now:
        messages.success(
            request,
            _("We will email you when request %(ref)s changes.") % {"ref": followed.reference},
        )
    else:
        messages.info(request, _CHECK_EMAIL)
    return followed


@require_http_methods(["POST"])
@portal_rate_limited("follow", targets=posted_email)
def follow_view(request: HttpRequest, token: str) -> HttpResponse:
    """Updates by e-mail from the private page."""
    case = _case_for_token(token)
    form = FollowForm(request.POST)
    if form.is_valid() and _follow(request, case, form) is not None:
        return redirect("portal:request", token=token)
    context = _case_context(case, private=True, token=token)
    context.update(follow_form=form, reopen_form=ReopenForm())
    return render(request, "portal/request.html", context, status=400)


@require_http_methods(["POST"])
@portal_rate_limited("follow", targets=posted_email)
def follow_public_view(request: HttpRequest, reference: str) -> HttpResponse:
    """Updates by e-mail from the public page (by reference)."""
    case = _case_for_reference(reference)
    form = FollowForm(request.POST)
    if form.is_valid() and _follow(request, case, form) is not None:
        return _public_page(case)
    context: dict[str, Any] = {"form": TrackForm()}
    context.update(_case_context(case, private=False))
    context["follow_form"] = form
    return render(request, "portal/request.html", context, status=400)


@require_http_methods(["GET", "POST"])
def follow_confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the confirmation e-mail. GET only shows a button (mail scanners open
    links); the POST confirms, once."""
    if request.method == "GET":
        return render(request, "portal/follow_confirm.html", {"token": token})
    try:
        followed, _added = follow_confirm(token=token, language=get_language() or "")
    except (CaseNotFound, InvalidCaseInput):
        return render(request, "portal/follow_confirm.html", {"invalid": True}, status=404)
    messages.success(
        request,
        _("Thank you. We will email you when request %(ref)s changes.")
        % {"ref": followed.reference},
    )
    return _public_page(followed)


@require_http_methods(["POST"])
def link_rotate_view(request: HttpRequest, token: str) -> HttpResponse:
    """The resident replaces their private link (they shared it by mistake): the old one
    stops working at once and they are taken to the new one."""
    case = _case_for_token(token)
    rotated = case_link_rotate(case=case, channel=Channel.WEB)
    security_event(
        SecurityEventKind.PRIVATE_LINK_ROTATED,
        request=request,
        subject=rotated.reference,
        detail={"by": "resident"},
    )
    messages.success(
        request,
        _(
            "This is the new link to your request. Keep it private: the old one no longer "
            "works. Bookmark this page."
        ),
    )
    return redirect("portal:request", token=track_token(rotated))


@require_http_methods(["POST"])
def reopen_view(request: HttpRequest, token: str) -> HttpResponse:
    case = _case_for_token(token)
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            case_reopen_by_resident(case=case, reason=form.cleaned_data["reason"])
        except InvalidCaseInput as exc:
            for problem in (exc.details or {}).get("reason", [str(exc)]):
                form.add_error("reason", problem)
        else:
            messages.success(
                request, _("We have reopened your request. A member of staff will look at it.")
            )
            return redirect("portal:request", token=token)
    context = _case_context(case, private=True, token=token)
    context.update(follow_form=FollowForm(), reopen_form=form)
    return render(request, "portal/request.html", context, status=400)


@require_GET
def track_view(request: HttpRequest) -> HttpResponse:
    """Track by reference: the public view of a request (no photos, no reopening)."""
    form = TrackForm(request.GET or None)
    context: dict[str, Any] = {"form": form}
    status = 200
    if form.is_valid():
        try:
            # Personal services (about someone's home) have no public page.
            case = case_public_get(reference=form.cleaned_data["reference"])
        except CaseNotFound:
            form.add_error(
                "reference",
                _("We could not find a request with that reference. Check it and try again."),
            )
            status = 404
        else:
            context.update(_case_context(case, private=False))
            context.update(follow_form=FollowForm())
            # The public page shows the case's inclusion proof in the latest signed seal.
            context["proof"] = ledger_proof(case_id=case.pk)
            return render(request, "portal/request.html", context)
    elif request.GET:
        status = 400
    return render(request, "portal/track.html", context, status=status)


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
