"""The satisfaction survey page a resolution message links to: /survey/<token>/.

One question (1 to 5) with an optional comment, NPS (0 to 10) for the sampled cases, and
"don't ask me again". In the resident's language (the survey's, unless they chose one
with the language switcher). Works without JavaScript. An unknown token gets the same
friendly 404 whether or not any case exists; the token is 160 bits of HMAC, and posts
are rate limited like the portal's other resident forms. Views call experience's
services and selectors only.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from townhall.core.errors import NotFound, ValidationFailed
from townhall.experience.selectors import SurveyPage, language_offered, survey_page
from townhall.experience.services import (
    SurveyAlreadyAnswered,
    survey_answer,
    survey_opt_out_by_token,
)
from townhall.portal.throttle import portal_rate_limited

COMMENT_MAX = 2000
CSAT_CHOICES = [
    ("5", gettext_lazy("5 – Very satisfied")),
    ("4", gettext_lazy("4 – Satisfied")),
    ("3", gettext_lazy("3 – Neither satisfied nor dissatisfied")),
    ("2", gettext_lazy("2 – Dissatisfied")),
    ("1", gettext_lazy("1 – Very dissatisfied")),
]
NPS_CHOICES = [(str(n), str(n)) for n in range(11)]


class SurveyForm(forms.Form):
    csat = forms.ChoiceField(
        label=gettext_lazy("Overall, how satisfied are you with how we handled your request?"),
        choices=CSAT_CHOICES,
        widget=forms.RadioSelect,
        required=False,
    )
    nps = forms.ChoiceField(
        label=gettext_lazy(
            "How likely are you to recommend the council's services to a friend or "
            "neighbour? (0 = not at all likely, 10 = extremely likely)"
        ),
        choices=NPS_CHOICES,
        widget=forms.RadioSelect,
        required=False,
    )
    comment = forms.CharField(
        label=gettext_lazy("Anything you would like to tell us?"),
        help_text=gettext_lazy(
            "Do not include personal details such as your phone number or address."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=COMMENT_MAX,
        required=False,
        error_messages={
            "max_length": gettext_lazy("Keep your comment under 2000 characters."),
        },
    )
    opt_out = forms.BooleanField(required=False)

    def __init__(self, *args: object, ask_nps: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not ask_nps:
            del self.fields["nps"]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if not data.get("csat") and not data.get("opt_out"):
            self.add_error("csat", gettext_lazy("Choose how satisfied you are, from 1 to 5."))
        return data


def _language(request: HttpRequest, page: SurveyPage) -> str:
    """The language the resident chose with the switcher, else the survey's."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return language_offered(chosen) if chosen else page.language


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/survey/not_found.html", status=404)


@never_cache
@require_http_methods(["GET", "POST"])
@portal_rate_limited("resident_case")  # posts, per client (like a resident's case update)
def survey_view(request: HttpRequest, token: str) -> HttpResponse:
    page = survey_page(token=token)
    if page is None:
        return _not_found(request)
    with translation.override(_language(request, page)):
        if page.answered:
            return render(request, "portal/survey/answered.html", {"page": page})
        bound = request.POST if request.method == "POST" else None
        form = SurveyForm(bound, ask_nps=page.ask_nps)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if data.get("csat"):
                    survey_answer(
                        token=token,
                        csat=data["csat"],
                        nps=data.get("nps") or None,
                        comment=data.get("comment") or "",
                        via="web",
                    )
                if data.get("opt_out"):
                    survey_opt_out_by_token(token=token, via="web")
            except NotFound:
                return _not_found(request)
            except SurveyAlreadyAnswered:
                return render(request, "portal/survey/answered.html", {"page": page})
            except ValidationFailed as exc:
                for field, messages in exc.details.items():
                    for message in messages:
                        form.add_error(field if field in form.fields else None, message)
            else:
                done = "thanks" if data.get("csat") else "opted-out"
                return redirect("portal:survey-done", token=token, outcome=done)
        status = 400 if request.method == "POST" else 200
        context = {"page": page, "form": form, "token": token}
        return render(request, "portal/survey/form.html", context, status=status)


@never_cache
@require_GET
def survey_done_view(request: HttpRequest, token: str, outcome: str) -> HttpResponse:
    page = survey_page(token=token)
    if page is None or outcome not in {"thanks", "opted-out"}:
        return _not_found(request)
    if outcome == "thanks" and not page.answered:
        return redirect("portal:survey", token=token)
    with translation.override(_language(request, page)):
        context = {"page": page, "opted_out": outcome == "opted-out"}
        return render(request, "portal/survey/thanks.html", context)
