"""Files on a case: the resident's photos, attachments of messages, the resident's export.

Each is served privately (never cached by others) and never rendered as a page in the
console's origin.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase
from django.views.decorators.http import require_GET, require_POST

from townhall.console.selectors import case_attachment_get, case_photo_get
from townhall.console.views.common import case_or_404, staff_of, staff_required
from townhall.core.web import stored_file_response
from townhall.intake.privacy import privacy_may_export, resident_export_file


@require_GET
@staff_required
def photo_view(request: HttpRequest, case_id: int, photo_id: int) -> HttpResponseBase:
    case = case_or_404(request, case_id)
    photo = case_photo_get(case, photo_id)
    return stored_file_response(
        photo.file if photo is not None else None,
        content_type=photo.content_type if photo is not None else "",
        cache="private, max-age=3600",
    )


@require_GET
@staff_required
def attachment_view(request: HttpRequest, case_id: int, attachment_id: int) -> HttpResponseBase:
    """A file that came with a message about the case, as received, always as a download
    (never rendered in the console's origin: it may be anything)."""
    case = case_or_404(request, case_id)
    attachment = case_attachment_get(case, attachment_id)
    if attachment is None:
        raise Http404
    return stored_file_response(
        attachment.file,
        content_type="application/octet-stream",
        cache="private, no-store",
        download_as=attachment.filename or f"attachment-{attachment.pk}",
    )


@require_POST
@staff_required
def resident_export_view(request: HttpRequest, case_id: int) -> FileResponse:
    """Everything about the case's reporter as one ZIP (a POST: no personal data in URLs).

    Only for staff who may see every case of that resident (intake.privacy).
    """
    case = case_or_404(request, case_id)
    if case.reporter is None or not privacy_may_export(request.user, case.reporter):
        raise PermissionDenied
    handle = resident_export_file(
        citizen_id=case.reporter.pk, actor=staff_of(request), request=request, via="console"
    )
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"resident-{case.reporter.pk}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response
