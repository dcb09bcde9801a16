"""Bin reminders and alerts near an address: sign up, confirm, stop.

From an address's bin days (or /alerts/ and the account page). Anyone may ask with an
e-mail address: one confirmation is sent to it (capped a day per address, rate limited
per client and per address) and nothing else until its link is opened; the page answers
the same whatever happened, so it tells nobody which addresses we know. A signed-in
resident picks one of the contacts they have proven and is subscribed at once. Every
message carries a link that stops it. No URL carries an address: pages take a place id,
confirmation and stop links a secret or signed token. Views call notify.subscriptions.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from townhall.core.errors import NotFound, ValidationFailed
from townhall.notify.models import AlertTopic, SubscriptionRequest
from townhall.notify.subscriptions import (
    RADII_M,
    subscription_confirm,
    subscription_for_citizen,
    subscription_request_make,
    subscription_stop_by_token,
)
from townhall.people.models import ContactKind
from townhall.people.selectors import citizen_verified_contacts
from townhall.places.models import Place
from townhall.portal.accounts import signed_in_citizen
from townhall.portal.context import brand
from townhall.portal.forms import place_search_from
from townhall.portal.throttle import portal_rate_limited, posted_email

What = SubscriptionRequest.What


class SubscribeForm(forms.Form):
    """The e-mail (or, signed in, one of the resident's proven contacts); for alerts,
    the topic and how far around the address."""

    email = forms.EmailField(
        label=gettext_lazy("Email address"),
        help_text=gettext_lazy("We will email you a link to confirm. Nothing else until then."),
        error_messages={
            "required": gettext_lazy("Enter your email address."),
            "invalid": gettext_lazy("Enter an email address like name@example.com."),
        },
    )
    contact = forms.TypedChoiceField(
        label=gettext_lazy("Send them to"), coerce=int, widget=forms.RadioSelect
    )
    topic = forms.ChoiceField(label=gettext_lazy("About"), required=False)
    radius_m = forms.TypedChoiceField(
        label=gettext_lazy("How far around the address"),
        coerce=int,
        choices=[(r, f"{r / 1000:g} km" if r >= 1000 else f"{r} m") for r in RADII_M],
        initial=1000,
    )

    def __init__(
        self, *args: Any, contacts: list[tuple[int, str]], alerts: bool, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        if contacts:
            del self.fields["email"]
            contact = self.fields["contact"]
            assert isinstance(contact, forms.ChoiceField)
            contact.choices = contacts
            contact.initial = contacts[0][0]
        else:
            del self.fields["contact"]
        if alerts:
            topic = self.fields["topic"]
            assert isinstance(topic, forms.ChoiceField)
            topic.choices = [("", _("Everything"))] + [
                (t.code, t.name) for t in AlertTopic.objects.order_by("name")
            ]
        else:
            del self.fields["topic"], self.fields["radius_m"]


def _place(place_id: int) -> Place:
    place = Place.objects.filter(pk=place_id).first()
    if place is None:
        raise Http404
    return place


def _contacts(request: HttpRequest) -> list[tuple[int, str]]:
    citizen = signed_in_citizen(request)
    if citizen is None:
        return []
    kinds = (ContactKind.EMAIL, ContactKind.PHONE)
    return [(p.pk, p.value) for p in citizen_verified_contacts(citizen) if p.kind in kinds]


def _subscribe_page(request: HttpRequest, place: Place, what: str) -> HttpResponse:
    contacts = _contacts(request)
    form = SubscribeForm(request.POST or None, contacts=contacts, alerts=what == What.ALERTS)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        topic = AlertTopic.objects.filter(code=data.get("topic") or "").first()
        radius_m = data.get("radius_m") or 1000
        citizen = signed_in_citizen(request)
        try:
            if citizen is not None and contacts:
                subscription_for_citizen(
                    citizen=citizen,
                    what=what,
                    place=place,
                    contact_point_id=data["contact"],
                    topic=topic,
                    radius_m=radius_m,
                )
                messages.success(request, _("Done: you are signed up."))
                return redirect("portal:account")
            # Sent, capped or already signed up: the same answer (no enumeration).
            subscription_request_make(
                what=what,
                email=data["email"],
                place=place,
                language=get_language(),
                topic=topic,
                radius_m=radius_m,
                council=brand(request)["brand"]["name"],
            )
            return redirect("portal:subscription-sent")
        except ValidationFailed as exc:
            form.add_error(None, str(exc.message))
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "place": place, "what": what, "signed_in": bool(contacts)}
    return render(request, "portal/subscriptions/subscribe.html", context, status=status)


@require_http_methods(["GET", "POST"])
@portal_rate_limited("subscribe", targets=posted_email)  # per client and per address
def bin_reminders_view(request: HttpRequest, place_id: int) -> HttpResponse:
    """A reminder the evening before the bins at this address go out."""
    return _subscribe_page(request, _place(place_id), What.BINS)


@require_http_methods(["GET", "POST"])
@portal_rate_limited("subscribe", targets=posted_email)
def area_alerts_view(request: HttpRequest, place_id: int) -> HttpResponse:
    """Alerts (road works, collection changes…) around this address."""
    return _subscribe_page(request, _place(place_id), What.ALERTS)


@require_GET
def alerts_view(request: HttpRequest) -> HttpResponse:
    """Find the address to get alerts around."""
    form, matches = place_search_from(request)
    status = 400 if form.errors else 200
    context = {"form": form, "matches": matches}
    return render(request, "portal/subscriptions/alerts_search.html", context, status=status)


@require_GET
def subscription_sent_view(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/subscriptions/sent.html")


@require_http_methods(["GET", "POST"])
def subscription_confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    """Opening the link shows a button (mail scanners follow links); the POST confirms."""
    if request.method == "GET":
        return render(request, "portal/subscriptions/confirm.html", {"token": token})
    try:
        done = subscription_confirm(token=token)
    except NotFound:
        return render(request, "portal/subscriptions/confirm.html", {"invalid": True}, status=400)
    return render(request, "portal/subscriptions/confirm.html", {"done": done})


@csrf_exempt  # mail clients post RFC 8058 one-click requests; the signed token is the proof
@require_http_methods(["GET", "POST"])
def subscription_stop_view(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        return render(request, "portal/subscriptions/stop.html", {"token": token})
    try:
        what = subscription_stop_by_token(token=token)
    except NotFound:
        return render(request, "portal/subscriptions/stop.html", {"invalid": True}, status=404)
    return render(request, "portal/subscriptions/stop.html", {"done": True, "what": what})
