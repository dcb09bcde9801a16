"""After reporting: the confirmation, the private page (by its secret link), the public
page (by reference), "me too", updates by e-mail, a new private link and reopening.

The resident's own update and withdrawal (signed in, proven owner) are in
case_owner_views.py. Bad input re-renders the page with messages; never a 500.
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from townhall.cases.errors import CaseNotFound, InvalidCaseInput
from townhall.cases.lifecycle import OPEN_STATUSES, CaseStatus
from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.cases.resident import case_owned_by_resident
from townhall.cases.selectors import (
    case_for_token,
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
from townhall.core.dates import long_date
from townhall.core.errors import ValidationFailed
from townhall.core.security import SecurityEventKind, security_event
from townhall.core.web import stored_file_response
from townhall.forwarding.selectors import forward_public
from townhall.people.models import Channel
from townhall.portal.accounts import signed_in_citizen
from townhall.portal.appointment_context import appointment_context
from townhall.portal.forms import FollowForm, MeTooForm, ReopenForm, TrackForm
from townhall.portal.links import track_token, track_url
from townhall.portal.owner_forms import ResidentUpdateForm, WithdrawForm
from townhall.portal.selectors import case_photo_get, case_photos_list
from townhall.portal.services import follow_confirm, me_too, updates_subscribe, voice_key
from townhall.portal.throttle import portal_rate_limited, posted_email

_STATUS_LABELS = dict(CaseStatus.choices)


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


def case_for_token_or_404(token: str) -> Case:
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
    case = case_for_token_or_404(token)
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
        # "Sent to the county on 3 December 2026" (issue 22): the body's public name only.
        "forwarded": forward_public(case.pk),
    }
    if private:
        context["photos"] = case_photos_list(case=case)
        context["can_reopen"] = case_reopen_window_open(case)
        context["reopen_days"] = settings.TOWNHALL_REOPEN_DAYS
    return context


def private_context(request: HttpRequest, case: Case, token: str) -> dict[str, Any]:
    """What the private page shows, with empty forms; the update and withdraw forms only
    for the report's proven owner, signed in (cases.resident)."""
    context = _case_context(case, private=True, token=token)
    context.update(follow_form=FollowForm(), reopen_form=ReopenForm())
    citizen = signed_in_citizen(request)
    owner = case_owned_by_resident(case=case, citizen=citizen)
    context["owner"] = owner
    context["signed_in"] = citizen is not None
    if owner and case.status in OPEN_STATUSES:
        context.update(update_form=ResidentUpdateForm(), withdraw_form=WithdrawForm())
        context.update(appointment_context(case))  # issue 21: "Book an appointment"
    return context


@require_GET
def request_view(request: HttpRequest, token: str) -> HttpResponse:
    case = case_for_token_or_404(token)
    return render(request, "portal/request.html", private_context(request, case, token))


@require_GET
def photo_view(request: HttpRequest, token: str, photo_id: int) -> HttpResponseBase:
    case = case_for_token_or_404(token)  # a replaced link shows no photos either
    photo = case_photo_get(case=case, photo_id=photo_id)
    return stored_file_response(
        photo.file if photo is not None else None,
        content_type=photo.content_type if photo is not None else "",
        cache="private, max-age=86400",
    )


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
    case = case_for_token_or_404(token)
    form = FollowForm(request.POST)
    if form.is_valid() and _follow(request, case, form) is not None:
        return redirect("portal:request", token=token)
    context = private_context(request, case, token)
    context["follow_form"] = form
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
    case = case_for_token_or_404(token)
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
    case = case_for_token_or_404(token)
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
    context = private_context(request, case, token)
    context["reopen_form"] = form
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
