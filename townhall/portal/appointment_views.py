"""Residents' appointments (issue 21): book from a request's page, see, move or cancel.

Who may act: the signed-in resident who is the proven owner of the request (their
appointments are theirs), or whoever opens the signed link of an appointment message,
which grants this browser session that one appointment at its current version. Anyone
else gets the same 404 as for an appointment that does not exist. No personal data and
no row ids in URLs: a request is named by its private tracking token, an appointment by
its random public id. Every POST counts against the `appointment` rate limit.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from townhall.appointments.selectors import (
    appointment_by_public_id,
    appointment_for_citizen,
    appointment_for_link,
    appointment_is_live,
    appointments_for_citizen,
    live_appointment_for_case,
    meeting_for_case,
    slots_by_day,
    slots_offered,
)
from townhall.appointments.services import (
    AlreadyBooked,
    SlotUnavailable,
    appointment_book,
    appointment_cancel,
    appointment_move,
)
from townhall.cases.resident import case_owned_by_resident
from townhall.core import clock
from townhall.core.errors import DomainError, NotFound
from townhall.portal.accounts import signed_in_citizen
from townhall.portal.case_views import case_for_token_or_404
from townhall.portal.throttle import portal_rate_limited

_GRANTS = "appointment_links"


def _account(request: HttpRequest) -> list[str]:
    """The signed-in account (a per-account limit), if any."""
    return [f"user:{request.user.pk}"] if request.user.is_authenticated else []


def _granted(request: HttpRequest) -> dict[str, int]:
    grants = request.session.get(_GRANTS)
    return grants if isinstance(grants, dict) else {}


def _grant(request: HttpRequest, appointment: Any) -> None:
    grants = _granted(request)
    grants[appointment.public_id.hex] = appointment.version
    request.session[_GRANTS] = dict(list(grants.items())[-20:])


def _appointment_or_404(request: HttpRequest, public_id: Any) -> Any:
    """The appointment if this visitor may see it; 404 otherwise (never 403: no leak)."""
    citizen = signed_in_citizen(request)
    found = appointment_for_citizen(public_id=public_id, citizen=citizen)
    if found is not None:
        return found
    found = appointment_by_public_id(public_id)
    if (
        found is not None
        and appointment_is_live(found)
        and _granted(request).get(found.public_id.hex) == found.version
    ):
        return found
    raise Http404(_("We could not find that appointment."))


def _slots_context(meeting: Any, *, exclude: int | None = None) -> dict[str, Any]:
    from django.utils import timezone

    offered = slots_offered(meeting=meeting, now=clock.now(), exclude=exclude)
    return {"days": slots_by_day(offered, timezone.get_current_timezone()), "meeting": meeting}


def _error(
    request: HttpRequest, template: str, context: dict[str, Any], exc: DomainError
) -> HttpResponse:
    """The page again with the problem, as a 400 (409 when the request already has one)."""
    context["error"] = _problem(exc)
    status = 409 if isinstance(exc, AlreadyBooked) else 400
    return render(request, template, context, status=status)


def _problem(exc: DomainError) -> str:
    """What went wrong, in the resident's language."""
    if isinstance(exc, AlreadyBooked):
        return _("This request already has an appointment. Move it instead of booking another.")
    if isinstance(exc, SlotUnavailable):
        if exc.reason == "past":
            return _("That time has passed or is too soon to book. Choose a later time.")
        if exc.reason == "full":
            return _("Someone has just booked that time. Choose another time.")
        return _("Choose a time from the list.")
    return _("This appointment cannot be changed now. Call us if you need help.")


@require_http_methods(["GET", "POST"])
@portal_rate_limited("appointment", targets=_account)
def book_view(request: HttpRequest, token: str) -> HttpResponse:
    """Choose a time for a request whose service needs a meeting."""
    case = case_for_token_or_404(token)
    citizen = signed_in_citizen(request)
    if citizen is None:
        return redirect("portal:sign-in")
    meeting = meeting_for_case(case)
    if meeting is None or not case_owned_by_resident(case=case, citizen=citizen):
        raise Http404(_("We could not find that request."))
    live = live_appointment_for_case(case)
    if live is not None:
        return redirect("portal:appointment", public_id=live.public_id)
    context = {"case": case, "token": token, **_slots_context(meeting)}
    if request.method == "POST":
        try:
            appointment = appointment_book(
                case=case,
                citizen=citizen,
                slot_id=request.POST.get("slot"),
                now=clock.now(),
                language=get_language() or "en",
            )
        except DomainError as exc:
            return _error(request, "portal/appointments/book.html", context, exc)
        messages.success(request, _("Your appointment is booked. We have sent you the details."))
        return redirect("portal:appointment", public_id=appointment.public_id)
    return render(request, "portal/appointments/book.html", context)


@require_GET
def mine_view(request: HttpRequest) -> HttpResponse:
    """The signed-in resident's appointments still to come."""
    citizen = signed_in_citizen(request)
    if citizen is None:
        return redirect("portal:sign-in")
    return render(
        request,
        "portal/appointments/mine.html",
        {"appointments": appointments_for_citizen(citizen)},
    )


@require_GET
def link_view(request: HttpRequest, token: str) -> HttpResponse:
    """The link in an appointment message: opens that appointment in this session."""
    appointment = appointment_for_link(token)
    if appointment is None:
        return render(request, "portal/appointments/link_expired.html", status=404)
    _grant(request, appointment)
    return redirect("portal:appointment", public_id=appointment.public_id)


@require_GET
def detail_view(request: HttpRequest, public_id: Any) -> HttpResponse:
    appointment = _appointment_or_404(request, public_id)
    return render(request, "portal/appointments/detail.html", {"appointment": appointment})


@require_http_methods(["GET", "POST"])
@portal_rate_limited("appointment", targets=_account)
def cancel_view(request: HttpRequest, public_id: Any) -> HttpResponse:
    appointment = _appointment_or_404(request, public_id)
    context = {"appointment": appointment}
    if request.method == "POST":
        try:
            appointment_cancel(appointment=appointment, now=clock.now())
        except NotFound:
            raise Http404(_("We could not find that appointment.")) from None
        except DomainError as exc:
            return _error(request, "portal/appointments/cancel.html", context, exc)
        messages.success(request, _("Your appointment is cancelled. Your request stays open."))
        if signed_in_citizen(request) is not None:
            return redirect("portal:appointments")
        return redirect("portal:home")
    if not appointment_is_live(appointment):
        raise Http404(_("We could not find that appointment."))
    return render(request, "portal/appointments/cancel.html", context)


@require_http_methods(["GET", "POST"])
@portal_rate_limited("appointment", targets=_account)
def move_view(request: HttpRequest, public_id: Any) -> HttpResponse:
    appointment = _appointment_or_404(request, public_id)
    if not appointment_is_live(appointment):
        raise Http404(_("We could not find that appointment."))
    meeting = appointment.slot.service
    context = {"appointment": appointment, **_slots_context(meeting, exclude=appointment.slot_id)}
    if request.method == "POST":
        try:
            moved = appointment_move(
                appointment=appointment, slot_id=request.POST.get("slot"), now=clock.now()
            )
        except NotFound:
            raise Http404(_("We could not find that appointment.")) from None
        except DomainError as exc:
            return _error(request, "portal/appointments/move.html", context, exc)
        if appointment.public_id.hex in _granted(request):
            _grant(request, moved)
        messages.success(request, _("Your appointment has moved. We have sent you the details."))
        return redirect(reverse("portal:appointment", kwargs={"public_id": moved.public_id}))
    return render(request, "portal/appointments/move.html", context)
