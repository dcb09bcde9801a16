"""Help articles: search and list (/help/), one article (/help/<slug>/) with "Was this
helpful?". Works without JavaScript."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from townhall.core.errors import NotFound
from townhall.knowledge.rendering import article_html
from townhall.knowledge.selectors import (
    article_get_public,
    article_list_public,
    article_search,
    gap_threshold,
)
from townhall.knowledge.services import article_feedback_record, search_record


class HelpSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search help articles"),
        max_length=200,
        error_messages={
            "required": _("Enter what you are looking for"),
            "max_length": _("Enter 200 characters or fewer"),
        },
    )


class HelpFeedbackForm(forms.Form):
    helpful = forms.TypedChoiceField(
        label=_("Was this page helpful?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        widget=forms.RadioSelect,
        coerce=lambda value: value == "yes",
        error_messages={"required": _("Select yes or no")},
    )
    comment = forms.CharField(
        label=_("How could we improve this page?"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Do not include personal information."),
    )


@require_GET
def help_view(request: HttpRequest) -> HttpResponse:
    """Search help articles, or list them all when there is no query."""
    form = HelpSearchForm(request.GET if "q" in request.GET else None)
    results = []
    status = 200
    if form.is_bound:
        if form.is_valid():
            query = form.cleaned_data["q"]
            results = article_search(query=query, language=get_language(), limit=10)
            top = results[0] if results else None
            search_record(
                query=query,
                top_score=top.score if top else None,
                top_article_id=top.article.pk if top else None,
                answered=bool(top and top.score >= gap_threshold()),
                language=get_language() or "",
            )
        else:
            status = 400
    articles = [] if form.is_bound else list(article_list_public())
    context = {"form": form, "results": results, "articles": articles}
    return render(request, "portal/help/index.html", context, status=status)


def _article_page(
    request: HttpRequest, slug: str, form: HelpFeedbackForm, status: int
) -> HttpResponse:
    try:
        article = article_get_public(slug=slug)
    except NotFound:
        raise Http404 from None
    html = mark_safe(article_html(article.body))  # noqa: S308 - raw HTML is disabled in rendering
    context = {
        "article": article,
        "body_html": html,
        "form": form,
        "thanks": "thanks" in request.GET,
    }
    return render(request, "portal/help/article.html", context, status=status)


@require_GET
def help_article_view(request: HttpRequest, slug: str) -> HttpResponse:
    """Show a published article rendered from Markdown."""
    return _article_page(request, slug, HelpFeedbackForm(), 200)


@require_POST
def help_feedback_view(request: HttpRequest, slug: str) -> HttpResponse:
    """Record "Was this helpful?"; show the form again with an error if nothing was chosen."""
    form = HelpFeedbackForm(request.POST)
    if not form.is_valid():
        return _article_page(request, slug, form, 400)
    try:
        article = article_get_public(slug=slug)
        article_feedback_record(
            article_id=article.pk,
            helpful=form.cleaned_data["helpful"],
            comment=form.cleaned_data["comment"],
        )
    except NotFound:
        raise Http404 from None
    return redirect(reverse("portal:help-article", args=[article.slug]) + "?thanks=1")
