"""The report journey: where it is (a gazetteer address, a map point or the resident's
words), then the questions, the description, photos and contact details; the open reports
nearby first, so a resident can add their voice instead. A missed-bin report that cannot be
taken yet at the chosen address is refused at the address step, with the next collection.

Every step works without JavaScript: the map and "use my location" only fill the same
fields a typed address fills. Bad input re-renders the form with messages; never a 500.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from townhall.cases.selectors import case_nearby_open, case_public_text, service_shows_nearby
from townhall.catalog.models import ServiceType
from townhall.catalog.selectors import attribute_specs_for, service_type_get
from townhall.core import clock
from townhall.core.errors import ValidationFailed
from townhall.core.web import storage_file_response
from townhall.forwarding.selectors import route_shown
from townhall.intake.boundary import boundary_refusal
from townhall.intake.messages import Location
from townhall.intake.photo_suggestions import (
    PhotoSwitchRefused,
    photo_offer,
    photo_switch_check,
    photo_tags,
)
from townhall.intake.staging import (
    StagedPhotoGone,
    owner_key,
    photo_stage,
    staged_photo_file,
    staged_photo_name,
    staged_photos_discard,
)
from townhall.places.selectors import place_nearest, place_search
from townhall.portal.forms import AddressForm, ReportForm
from townhall.portal.links import track_token
from townhall.portal.selectors import missed_collection_refusal, place_get
from townhall.portal.services import report_submit
from townhall.portal.throttle import portal_rate_limited, posted_email

# Services whose group is about information, not a place, do not ask where.
NO_LOCATION_GROUPS = frozenset({"general"})


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
        place = place_get(place_id=int(place_id))
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
def staged_photo_view(request: HttpRequest, token: str) -> HttpResponseBase:
    """A photo kept between two tries of a report form, for its thumbnail."""
    try:
        name, content_type = staged_photo_file(token)
    except (StagedPhotoGone, OSError):
        raise Http404 from None
    return storage_file_response(
        default_storage, name, content_type=content_type, cache="private, no-store"
    )


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
    if request.method == "POST" and request.POST.get("switch_to"):
        return _photo_switch(request, service, context)
    if request.method == "POST" and request.POST.get("add_photos") and request.FILES:
        return _photos_added(request, service, specs, context)
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
        posted = _posted_location(request)
        context.update(form=form, step="details", location=posted)
        context["route"] = route_shown(service_type_id=service.pk, lat=posted.lat, long=posted.long)
        context["kept"] = _photos_kept(request, form)
        return render(request, "portal/report.html", context, status=400)

    chosen, shown = _location_from_query(request)
    context.update(shown)
    if chosen is not None and chosen.lat is not None and chosen.long is not None:
        # Outside the council's boundary: say who to contact at once, not after the form.
        context["outside"] = boundary_refusal(
            jurisdiction_id=service.jurisdiction_id, lat=chosen.lat, long=chosen.long
        )
        if context["outside"]:
            context["step"] = "where"
            return render(request, "portal/report.html", context, status=400)
    if wants_place and chosen is None and not request.GET.get("skip_place"):
        context["step"] = "where"
        return render(request, "portal/report.html", context, status=shown.get("status", 200))
    location = chosen or Location()
    refusal = missed_collection_refusal(service_type=service, location=location, now=clock.now())
    if refusal is not None:
        # Said at the address step, before the resident types the rest (the post refuses too).
        context.update(step="refused", refusal=refusal, location=location)
        return render(request, "portal/report.html", context)
    context["step"] = "details"
    context["location"] = location
    # "This goes to the county, who will reply" (issue 22): once service and place are known.
    context["route"] = route_shown(service_type_id=service.pk, lat=location.lat, long=location.long)
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


def _only_photo_errors(form: ReportForm) -> None:
    """Keep the photos' own errors: the rest of the form is not finished yet, not wrong."""
    form.is_valid()
    for name in list(form.errors):
        if name not in ("photos", "kept_photos"):
            del form.errors[name]


def _photos_added(
    request: HttpRequest, service: ServiceType, specs: Any, context: dict[str, Any]
) -> HttpResponse:
    """ "Add photos": check and stage the chosen photos (the form comes back with everything
    typed so far) and, if they look like another service's problem, suggest it. Tagging
    happens here, in its own request, never while the report is sent."""
    form = ReportForm(
        request.POST, request.FILES, specs=specs, needs_location=context["wants_place"]
    )
    _only_photo_errors(form)
    added = [photo for _name, photo in form.photos_to_keep() if photo is not None]
    context.update(form=form, step="details", location=_posted_location(request))
    context["kept"] = _photos_kept(request, form)
    context["photos_added"] = bool(added)
    context["photo_offer"] = photo_offer(photo_tags(p.content for p in added), current=service.code)
    return render(request, "portal/report.html", context, status=400 if form.errors else 200)


def _photo_switch(
    request: HttpRequest, service: ServiceType, context: dict[str, Any]
) -> HttpResponse:
    """The resident took the photo's suggestion: the same report, filed as `service`.

    The answers to the old service's own questions are dropped (this one asks its own);
    the description, place, contact and kept photos come along. A switch that was not
    offered (altered, forged, expired) is refused with a 400."""
    try:
        photo_switch_check(request.POST["switch_to"], to=service.code)
    except PhotoSwitchRefused:
        return render(request, "portal/photo_switch_refused.html", {"service": service}, status=400)
    data = request.POST.copy()
    for key in [k for k in data if k.startswith("attribute_")]:
        del data[key]
    wants_place = needs_location(service)
    form = ReportForm(
        data, specs=attribute_specs_for(service_type=service), needs_location=wants_place
    )
    form.is_valid()
    context["kept"] = _photos_kept(request, form)
    form.errors.clear()
    context.update(form=form, step="details", location=_posted_location(request))
    context.update(wants_place=wants_place, switched=True)
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
