"""Apply after an eligibility check or a permit finder (/apply/...): thin views over
townhall.intake.applications.

"Apply" on a result page posts only which programme (or tree and permit) to apply for:
the answers are read from where the checker keeps them (portal/answers.py), checked
again, and kept as a draft bound to the signed-in resident; the address names the draft
by a signed, dated random id. No answer and no personal data is ever in a URL. Anyone
but the draft's resident gets the same 404 as for a draft that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from townhall.core.errors import NotFound, ValidationFailed
from townhall.intake.application_drafts import (
    ApplicationExpired,
    ApplicationRefused,
    NotApplicable,
    application_draft,
    application_start,
    permit_application_start,
)
from townhall.intake.applications import (
    Upload,
    application_page,
    application_submit,
    application_submitted,
)
from townhall.portal.accounts import signed_in_citizen
from townhall.portal.answers import answers_get
from townhall.portal.throttle import portal_rate_limited


def _account(request: HttpRequest) -> list[str]:
    return [f"user:{request.user.pk}"] if request.user.is_authenticated else []


def _language() -> str:
    return get_language() or "en"


def _expired(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/apply/expired.html", status=410)


def _not_applicable(request: HttpRequest, exc: NotApplicable, back: str) -> HttpResponse:
    """Why these answers lead to no application, with the way back to them (400)."""
    reasons = [str(m) for m in exc.details.get("apply", [])] or [exc.message]
    return render(
        request,
        "portal/apply/not_applicable.html",
        {"reasons": reasons, "back_url": back},
        status=400,
    )


@require_POST
@portal_rate_limited("apply", targets=_account)
def apply_start_view(request: HttpRequest) -> HttpResponse:
    """ "Apply" on a check's result: the answers kept server-side become a draft."""
    programme_id = request.POST.get("programme", "")[:63]
    tree_id = request.POST.get("tree", "")[:63]
    permit_id = request.POST.get("permit", "")[:63]
    if programme_id:
        back = reverse("portal:check-result", args=[programme_id])
    elif tree_id and permit_id:
        back = reverse("portal:permits") + "?" + urlencode({"tree": tree_id})
    else:
        raise Http404(_("We could not find that application."))
    citizen = signed_in_citizen(request)
    if citizen is None:
        return render(request, "portal/apply/sign_in.html", {"back_url": back})
    try:
        if programme_id:
            kept = answers_get(request, "check", programme_id)
            token = application_start(
                citizen=citizen,
                rule_id=programme_id,
                answers=kept if isinstance(kept, dict) else {},
                language=_language(),
            )
        else:
            kept = answers_get(request, "permits", tree_id)
            token = permit_application_start(
                citizen=citizen,
                tree_id=tree_id,
                permit_id=permit_id,
                answers=kept if isinstance(kept, list) else [],
            )
    except NotApplicable as exc:
        return _not_applicable(request, exc, back)
    except NotFound:
        raise Http404(_("We could not find that application.")) from None
    return redirect("portal:apply", token=token)


def _page_context(request: HttpRequest, token: str, draft: Any) -> dict[str, Any]:
    page = application_page(draft, language=_language())
    return {
        "token": token,
        "page": page,
        "max_mb": settings.TOWNHALL_PHOTO_MAX_BYTES // 2**20,
        "documents": [(d, []) for d in page.documents],
        "error_list": [],
    }


def _with_errors(context: dict[str, Any], details: dict[str, Any]) -> dict[str, Any]:
    """The page's context with the service's problems: by document, and in the summary
    (linked to the document's field; other problems unlinked)."""
    page = context["page"]
    codes = {d.code for d in page.documents}
    context["documents"] = [(d, [str(m) for m in details.get(d.code, [])]) for d in page.documents]
    context["error_list"] = [
        (f"doc_{key}" if key in codes else "", str(message))
        for key, problems in details.items()
        for message in problems
    ]
    return context


@require_http_methods(["GET", "POST"])
@portal_rate_limited("apply", targets=_account)
@never_cache
def apply_view(request: HttpRequest, token: str) -> HttpResponse:
    """The application: the answers already given (read only), the documents to upload,
    and Send. A second send (double click, back button) shows the first one's case."""
    citizen = signed_in_citizen(request)
    try:
        if application_submitted(token=token, citizen=citizen) is not None:
            return redirect("portal:apply-done", token=token)
        draft = application_draft(token=token, citizen=citizen)
        context = _page_context(request, token, draft)
    except ApplicationRefused:
        raise Http404(_("We could not find that application.")) from None
    except (ApplicationExpired, NotFound):
        return _expired(request)
    except NotApplicable as exc:
        return _not_applicable(request, exc, reverse("portal:check"))
    if request.method == "GET":
        return render(request, "portal/apply/form.html", context)
    limit = settings.TOWNHALL_PHOTO_MAX_BYTES
    uploads = [
        # Read one byte past the limit at most: the service refuses anything longer.
        Upload(code=name[4:], filename=upload.name or "", data=upload.read(limit + 1))
        for name in request.FILES
        if name.startswith("doc_")
        for upload in request.FILES.getlist(name)
    ]
    try:
        application_submit(token=token, citizen=citizen, uploads=uploads, language=_language())
    except ApplicationRefused:
        raise Http404(_("We could not find that application.")) from None
    except ApplicationExpired:
        return _expired(request)
    except ValidationFailed as exc:
        return render(
            request, "portal/apply/form.html", _with_errors(context, exc.details), status=400
        )
    return redirect("portal:apply-done", token=token)


@require_GET
@never_cache
def apply_done_view(request: HttpRequest, token: str) -> HttpResponse:
    """Sent: the request's reference, then paying the fee and booking a meeting."""
    try:
        done = application_submitted(token=token, citizen=signed_in_citizen(request))
    except ApplicationRefused:
        raise Http404(_("We could not find that application.")) from None
    if done is None:
        return redirect("portal:apply", token=token)
    return render(request, "portal/apply/done.html", {"done": done})
