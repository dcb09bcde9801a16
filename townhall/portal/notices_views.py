"""Public notices and product recalls: the list, the notices near an address, one notice,
and for a recall the batch-code check (typed, or scanned from a photo of the barcode and
decoded on the page; the form works without JavaScript). Views call notices' selectors."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from townhall.notices.selectors import (
    InvalidCode,
    notice_public_get,
    notices_near,
    notices_public,
    recall_code_check,
)
from townhall.portal.forms import place_search_from
from townhall.portal.selectors import place_get
from townhall.portal.throttle import portal_rate_limited


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Batch or lot code"),
        help_text=_("Printed near the best-before date, for example AB-1234 5."),
        max_length=200,
        error_messages={
            "required": _("Enter the batch or lot code printed on the product"),
            "max_length": _("That is too long for a batch code (at most 64 characters)."),
        },
    )


CODE_ERRORS = {
    "empty": _("Enter the batch or lot code printed on the product"),
    "too_long": _("That is too long for a batch code (at most 64 characters)."),
    "characters": _("A batch code has only letters and numbers. Check it and try again."),
}


def _language() -> str:
    return get_language() or "en"


@require_GET
def notices_view(request: HttpRequest) -> HttpResponse:
    """Every notice shown now; an address search leads to the notices near it."""
    form, matches = place_search_from(request)
    context = {"notices": notices_public(language=_language()), "form": form, "matches": matches}
    return render(request, "portal/notices/list.html", context, status=400 if form.errors else 200)


@require_GET
def notices_near_view(request: HttpRequest, place_id: int) -> HttpResponse:
    """The notices whose area covers an address."""
    place = place_get(place_id=place_id)
    if place is None:
        raise Http404
    found = notices_near(lat=place.lat, long=place.long, language=_language(), limit=50)
    return render(request, "portal/notices/near.html", {"place": place, "notices": found})


@require_http_methods(["GET", "POST"])
@portal_rate_limited("notice_check")
def notice_view(request: HttpRequest, notice_id: int) -> HttpResponse:
    """One notice; for a recall, the batch-code check (POST), which answers affected or not
    affected and the recall's advice, and nothing else."""
    notice = notice_public_get(notice_id=notice_id, language=_language())
    if notice is None:
        raise Http404
    form = CodeForm(request.POST if request.method == "POST" and notice.is_recall else None)
    check = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                check = recall_code_check(
                    notice_id=notice.id, raw_code=form.cleaned_data["code"], language=_language()
                )
            except InvalidCode as exc:
                form.add_error("code", CODE_ERRORS.get(exc.reason, str(exc)))
        if form.errors:
            status = 400
    context = {"notice": notice, "form": form, "check": check}
    return render(request, "portal/notices/notice.html", context, status=status)
