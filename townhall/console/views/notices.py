"""Public notices and product recalls in the console (issue 21, docs/notices.md): the list
of every notice with its filters, one notice with its history, and what the services offer
on it: publish a draft, withdraw, edit a draft, import a recall's batch codes from a CSV
file, and record the notices whose end has passed as expired.

Who: staff with `notices.view_notice` read; `notices.change_notice` acts (people/roles.py:
supervisors and department administrators; caseworkers read). Others on staff get 403,
residents 403, anyone signed out the sign-in page. Every action is a POST (CSRF) that
redirects back; a refusal shows the page again with the error (400).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from townhall.console.queues import QUEUES
from townhall.console.views.common import View, errors_onto, staff_of, staff_required
from townhall.core.errors import ValidationFailed
from townhall.notices.imports import MAX_UPLOAD, recall_codes_import_upload
from townhall.notices.selectors_staff import (
    NOTICE_KINDS,
    NOTICE_STATUSES,
    StaffNotice,
    notice_staff_get,
    notice_topics,
    notices_staff_page,
)
from townhall.notices.services import (
    notice_draft_edit,
    notice_publish,
    notice_withdraw,
    notices_expire,
)

VIEW = "notices.view_notice"
CHANGE = "notices.change_notice"


def _allow(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _all(label: str) -> list[tuple[str, Any]]:
    return [("", label)]


def _choose(form: forms.Form, name: str, choices: list[tuple[str, Any]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)  # declared so above
    field.choices = choices


class NoticeFilterForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    topic = forms.ChoiceField(label=gettext_lazy("Topic"), required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        every = str(gettext_lazy("All"))
        _choose(self, "kind", _all(every) + NOTICE_KINDS)
        _choose(self, "status", _all(every) + NOTICE_STATUSES)
        _choose(self, "topic", _all(every) + notice_topics())


class NoticeEditForm(forms.Form):
    topic = forms.ChoiceField(label=gettext_lazy("Topic"))
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    body = forms.CharField(label=gettext_lazy("Text"), max_length=10_000, widget=forms.Textarea)
    advice = forms.CharField(
        label=gettext_lazy("What residents should do"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea,
    )
    title_es = forms.CharField(
        label=gettext_lazy("Title in Spanish"), required=False, max_length=200
    )
    body_es = forms.CharField(
        label=gettext_lazy("Text in Spanish"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea,
    )
    advice_es = forms.CharField(
        label=gettext_lazy("Advice in Spanish"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea,
    )
    starts_at = forms.DateTimeField(label=gettext_lazy("Starts"), required=False)
    ends_at = forms.DateTimeField(label=gettext_lazy("Ends"), required=False)
    lat = forms.FloatField(label=gettext_lazy("Latitude of the centre"), required=False)
    long = forms.FloatField(label=gettext_lazy("Longitude of the centre"), required=False)
    radius_m = forms.IntegerField(label=gettext_lazy("Radius in metres"), required=False)
    product = forms.CharField(label=gettext_lazy("Product"), required=False, max_length=200)
    product_es = forms.CharField(
        label=gettext_lazy("Product in Spanish"), required=False, max_length=200
    )

    def __init__(self, *args: Any, notice: StaffNotice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choose(self, "topic", notice_topics())
        if not notice.is_recall:
            del self.fields["product"], self.fields["product_es"]
        if notice.drawn_area:  # a drawn polygon is edited in the admin; the circle is not used
            del self.fields["lat"], self.fields["long"], self.fields["radius_m"]

    @classmethod
    def of(cls, notice: StaffNotice) -> NoticeEditForm:
        initial = {name: getattr(notice, name) for name in cls.base_fields}
        return cls(initial=initial, notice=notice)


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why (kept in the notice's history)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ImportCodesForm(forms.Form):
    csv_file = forms.FileField(
        label=gettext_lazy("CSV file of batch codes"),
        help_text=gettext_lazy(
            "One code per row, in the column headed code, batch or lot (else the first); "
            "UTF-8, at most 20 MB."
        ),
        error_messages={"required": gettext_lazy("Choose a CSV file.")},
    )


@require_GET
@staff_required
def notices_view(request: HttpRequest) -> HttpResponse:
    """Every notice, newest first, 50 a page; ?kind=, ?status=, ?topic=, ?page=."""
    _allow(request, VIEW)
    form = NoticeFilterForm(request.GET)
    valid = form.is_valid()
    chosen = form.cleaned_data if valid else {}
    page, rows = notices_staff_page(
        kind=chosen.get("kind", ""),
        status=chosen.get("status", ""),
        topic=chosen.get("topic", ""),
        page=chosen.get("page") or 1,
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "queues": QUEUES,
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode() if valid else "",
        "may_change": request.user.has_perm(CHANGE),
    }
    return render(request, "console/notices/list.html", context, status=200 if valid else 400)


def _notice_or_404(notice_id: int) -> StaffNotice:
    notice = notice_staff_get(notice_id)
    if notice is None:
        raise Http404
    return notice


def _page(
    request: HttpRequest, notice: StaffNotice, status: int = 200, **forms_: Any
) -> HttpResponse:
    context = {
        "queues": QUEUES,
        "notice": notice,
        "may_change": request.user.has_perm(CHANGE),
        "edit_form": forms_.get("edit_form") or NoticeEditForm.of(notice),
        "withdraw_form": forms_.get("withdraw_form") or WithdrawForm(),
        "import_form": forms_.get("import_form") or ImportCodesForm(),
        "errors": forms_.get("errors", []),
    }
    return render(request, "console/notices/notice.html", context, status=status)


@require_GET
@staff_required
def notice_view(request: HttpRequest, notice_id: int) -> HttpResponse:
    _allow(request, VIEW)
    return _page(request, _notice_or_404(notice_id))


def _done(notice_id: int) -> HttpResponse:
    return redirect("console:notice", notice_id=notice_id)


def notice_action(view: Callable[[HttpRequest, StaffNotice], HttpResponse]) -> View:
    """A POST on one notice by staff with `notices.change_notice`: the view gets the notice
    (404 if there is none)."""

    @require_POST
    @staff_required
    @wraps(view)
    def wrapped(request: HttpRequest, notice_id: int) -> HttpResponse:
        _allow(request, CHANGE)
        return view(request, _notice_or_404(notice_id))

    return wrapped


@notice_action
def notice_publish_view(request: HttpRequest, notice: StaffNotice) -> HttpResponse:
    """Publish a draft: shown on the portal, one alert to the topic's subscribers."""
    try:
        notice_publish(notice.id, actor=staff_of(request))
    except ValidationFailed as exc:
        return _page(request, notice, status=400, errors=[exc.message])
    messages.success(request, _("Notice published; subscribers in its area are alerted."))
    return _done(notice.id)


@notice_action
def notice_withdraw_view(request: HttpRequest, notice: StaffNotice) -> HttpResponse:
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            notice_withdraw(notice.id, actor=staff_of(request), reason=form.cleaned_data["reason"])
        except ValidationFailed as exc:
            form.add_error("reason", exc.message)
        else:
            messages.success(request, _("Notice withdrawn: it is no longer shown."))
            return _done(notice.id)
    return _page(request, notice, status=400, withdraw_form=form)


@notice_action
def notice_edit_view(request: HttpRequest, notice: StaffNotice) -> HttpResponse:
    """Change a draft's text, period, topic, circle and product."""
    form = NoticeEditForm(request.POST, notice=notice)
    if form.is_valid():
        changes = dict(form.cleaned_data)
        topic = changes.pop("topic")
        if not notice.drawn_area:
            changes["polygon"] = None
        try:
            notice_draft_edit(notice.id, topic_code=topic, actor=staff_of(request), **changes)
        except ValidationFailed as exc:
            if not exc.details:  # no longer a draft: said above the page, not by a field
                return _page(request, notice, status=400, edit_form=form, errors=[exc.message])
            errors_onto(form, exc, "title")
        else:
            messages.success(request, _("Draft saved."))
            return _done(notice.id)
    return _page(request, notice, status=400, edit_form=form)


@notice_action
def notice_import_view(request: HttpRequest, notice: StaffNotice) -> HttpResponse:
    """Add a recall's batch codes from a CSV file (the import of `townhall notices
    import-codes`: a batch per transaction, nothing added twice)."""
    form = ImportCodesForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data["csv_file"].read(MAX_UPLOAD + 1)
        try:
            result = recall_codes_import_upload(notice.id, data, actor=staff_of(request))
        except ValidationFailed as exc:
            if not (notice.is_recall and notice.is_open):  # no import form on this page
                return _page(request, notice, status=400, errors=[exc.message])
            form.add_error("csv_file", exc.message)
        else:
            summary = _(
                "%(read)s read: %(added)s added, %(present)s already there, %(invalid)s invalid."
            ) % {
                "read": result.read,
                "added": result.added,
                "present": result.present,
                "invalid": result.invalid,
            }
            (messages.warning if result.invalid else messages.success)(request, summary)
            for number, reason in result.invalid_lines:
                messages.warning(
                    request, _("Line %(n)s: %(reason)s") % {"n": number, "reason": reason}
                )
            return _done(notice.id)
    return _page(request, notice, status=400, import_form=form)


@require_POST
@staff_required
def notices_expire_view(request: HttpRequest) -> HttpResponse:
    """Record now the published notices whose end has passed as expired (the scheduler
    does it every 15 minutes; they are hidden at their end already)."""
    _allow(request, CHANGE)
    done = notices_expire()
    messages.success(request, _("%(n)s ended notices recorded as expired.") % {"n": done})
    return redirect("console:notices")
