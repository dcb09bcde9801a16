"""Admin views of cases: read-only, because every change must go through services and events.

The admin shows each member of staff only the cases the console would (cases.access): a case
outside their departments, its events, photos and followers are as missing here as there.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from townhall.cases.access import access_cases
from townhall.cases.errors import CaseNotFound
from townhall.cases.models import Case, CaseEvent, CaseFollower, CasePhoto
from townhall.cases.selectors import case_get_by_reference, ledger_verify
from townhall.core.web import stored_file_response


class CaseEventInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ("seq", "kind", "at", "actor_label", "channel", "public", "data", "hash")
    readonly_fields = fields
    ordering = ["seq"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CasePhotoInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CasePhoto
    extra = 0
    can_delete = False
    fields = ("preview", "width", "height", "size", "lat", "long", "created_at")
    readonly_fields = fields

    class Media:
        css = {"all": ["core/admin.css"]}  # classes, not style attributes (CSP)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("Photo"))
    def preview(self, photo: CasePhoto) -> str:
        return format_html(
            '<a href="{}"><img src="{}" alt="Photo {}" class="th-admin-thumb"></a>',
            reverse("admin:cases_case_photo", args=[photo.pk]),
            reverse("admin:cases_case_photo", args=[photo.pk]),
            photo.pk,
        )


class CaseFollowerInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CaseFollower
    extra = 0
    can_delete = False
    fields = ("citizen", "via", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "reference",
        "service_type",
        "status",
        "priority",
        "channel",
        "department",
        "due_at",
        "opened_at",
    ]
    list_filter = ["status", "priority", "channel", "department", "service_type"]
    list_select_related = ["service_type", "department"]
    date_hierarchy = "opened_at"
    search_fields = ["description", "address"]
    inlines = [CaseEventInline, CasePhotoInline, CaseFollowerInline]
    actions = ["verify_ledger"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        return super().get_queryset(request).filter(pk__in=access_cases(request.user).values("pk"))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Case], search_term: str
    ) -> tuple[QuerySet[Case], bool]:
        try:
            case = case_get_by_reference(reference=search_term)
        except CaseNotFound:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(pk=case.pk), False

    def get_urls(self) -> list[Any]:
        extra = [
            path(
                "photo/<int:photo_id>/",
                self.admin_site.admin_view(self.photo_view),
                name="cases_case_photo",
            )
        ]
        return extra + super().get_urls()

    def photo_view(self, request: HttpRequest, photo_id: int) -> HttpResponseBase:
        """A resident's photo, for staff who may see cases (media is not served publicly)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        photo = CasePhoto.objects.filter(pk=photo_id, case__in=self.get_queryset(request)).first()
        if photo is None:
            raise Http404
        # A file that is gone (erased, or storage lost it) is a 404, not a 500.
        return stored_file_response(
            photo.file, content_type=photo.content_type, cache="private, max-age=3600"
        )

    # Part of the resident's private link: nobody needs to read it (staff replace it
    # from the console case page).
    exclude = ["track_key"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Case._meta.fields if f.name not in self.exclude]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("Verify the tamper-evident history of selected cases"))
    def verify_ledger(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        checked, breaks = ledger_verify(case_ids=list(queryset.values_list("pk", flat=True)))
        if breaks:
            for b in breaks[:20]:
                self.message_user(
                    request, f"Case {b.case_id} event #{b.seq}: {b.reason}", messages.ERROR
                )
        else:
            self.message_user(request, f"{checked} events verified, no breaks.", messages.SUCCESS)
