"""Admin screens: inbound messages (read-only audit), partner webhooks, triage models."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from townhall.cases.access import access_cases
from townhall.intake import models as m
from townhall.intake.privacy import (
    privacy_may_erase,
    privacy_may_export,
    resident_erase,
    resident_erasure_plan,
    resident_export_file,
)
from townhall.intake.retention import retention_policy_ensure
from townhall.people.admin import CitizenAdmin
from townhall.people.models import Citizen


class CaseScopedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Rows about a case are shown only to staff who may see the case (cases.access), as in
    the console; rows about no case only to council admins."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        user: Any = request.user
        if user.is_superuser:
            return qs
        return qs.filter(case__in=access_cases(user))


class AttachmentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = m.InboundAttachment
    extra = 0
    can_delete = False
    fields = ["filename", "content_type", "size", "inline", "file"]
    readonly_fields = ["filename", "content_type", "size", "inline", "file"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(m.InboundMessage)
class InboundMessageAdmin(CaseScopedAdmin):
    """Everything that arrived, as it arrived: for audit and for finding a lost request."""

    list_display = ["received_at", "channel", "sender_key", "subject", "outcome", "case"]
    list_filter = ["channel", "outcome", "source"]
    search_fields = ["sender_key", "subject", "text", "external_id", "thread_hint"]
    date_hierarchy = "received_at"
    list_select_related = ["case"]
    inlines = [AttachmentInline]
    readonly_fields = [f.name for f in m.InboundMessage._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(m.WebhookSource)
class WebhookSourceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "slug", "channel", "jurisdiction", "active", "created_at"]
    list_filter = ["active", "channel"]
    prepopulated_fields = {"slug": ["name"]}

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"secret": secrets.token_urlsafe(32)}


@admin.register(m.TriageModel)
class TriageModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Trained classifiers: which one is active, and how well each scored."""

    list_display = ["name", "created_at", "rows", "label_count", "macro_f1", "active"]
    list_filter = ["active"]
    fields = ["name", "created_at", "rows", "labels", "metrics", "active", "trained_by"]
    readonly_fields = ["created_at", "rows", "labels", "metrics", "trained_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # models come from `townhall triage train`

    @admin.display(description=_("Services"))
    def label_count(self, obj: m.TriageModel) -> int:
        return len(obj.labels or [])

    @admin.display(description=_("Macro-F1"))
    def macro_f1(self, obj: m.TriageModel) -> str:
        value = (obj.metrics or {}).get("macro_f1")
        return f"{value:.3f}" if isinstance(value, int | float) else "–"


@admin.register(m.TriageReview)
class TriageReviewAdmin(CaseScopedAdmin):
    list_display = ["case", "confidence", "status", "created_at", "decided_by"]
    list_filter = ["status"]
    raw_id_fields = ["case"]
    readonly_fields = ["suggestions", "confidence", "created_at", "decided_at", "decided_by"]


@admin.register(m.DuplicateSuggestion)
class DuplicateSuggestionAdmin(CaseScopedAdmin):
    list_display = ["case", "candidate", "score", "distance_m", "similarity", "status"]
    list_filter = ["status"]
    raw_id_fields = ["case", "candidate"]


# --- privacy: export and erasure on citizens, the retention policy ------------------------
# The people admin cannot call intake.privacy (people sits below intake), so the citizen
# screen is re-registered here with the privacy actions added to everything it does.


def _zip_response(citizen_id: int, request: HttpRequest) -> FileResponse:
    handle = resident_export_file(citizen_id=citizen_id, request=request, via="admin")
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"resident-{citizen_id}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response


admin.site.unregister(Citizen)


@admin.register(Citizen)
class CitizenPrivacyAdmin(CitizenAdmin):
    """The people admin's citizen screens, plus "Export data" and "Erase personal data"."""

    actions = [*CitizenAdmin.actions, "export_data", "erase_data"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting the row would leave the resident's words in cases, messages and
        # notifications: erasure is the only way to remove a resident.
        return False

    def get_urls(self) -> list[Any]:
        extra = [
            path(
                "<path:object_id>/erase/",
                self.admin_site.admin_view(self.erase_view),
                name="people_citizen_erase",
            ),
        ]
        return extra + super().get_urls()

    @admin.action(description=_("Export all data of the selected resident (ZIP)"))
    def export_data(
        self, request: HttpRequest, queryset: QuerySet[Citizen]
    ) -> HttpResponseBase | None:
        people = list(queryset[:2])
        if len(people) != 1:
            self.message_user(
                request, _("Select exactly one resident to export."), messages.WARNING
            )
            return None
        if not privacy_may_export(request.user, people[0]):
            raise PermissionDenied
        return _zip_response(people[0].pk, request)

    @admin.action(description=_("Erase personal data of the selected resident…"))
    def erase_data(self, request: HttpRequest, queryset: QuerySet[Citizen]) -> HttpResponse | None:
        people = list(queryset[:2])
        if len(people) != 1:
            self.message_user(request, _("Select exactly one resident to erase."), messages.WARNING)
            return None
        if not privacy_may_erase(request.user):
            raise PermissionDenied
        return HttpResponseRedirect(reverse("admin:people_citizen_erase", args=[people[0].pk]))

    def erase_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Show what erasing would remove; erase on a confirmed POST."""
        if not privacy_may_erase(request.user):
            raise PermissionDenied
        citizen = self.get_object(request, object_id)
        if citizen is None:
            self.message_user(request, _("That person no longer exists."), messages.WARNING)
            return HttpResponseRedirect(reverse("admin:people_citizen_changelist"))
        if request.method == "POST" and request.POST.get("confirm") == "erase":
            actor = request.user if isinstance(request.user, AbstractBaseUser) else None
            report = resident_erase(
                citizen_id=citizen.pk, actor=actor, request=request, via="admin"
            )
            self.message_user(
                request,
                _("Resident %(id)s erased; %(cases)d case(s) kept without personal data.")
                % {"id": citizen.pk, "cases": len(report.case_ids)},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:people_citizen_changelist"))
        plan = resident_erasure_plan(citizen.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "app_label": self.model._meta.app_label,
            "title": _("Erase the personal data of %(name)s") % {"name": citizen},
            "original": citizen,
            "rows": [(k.replace("_", " "), v) for k, v in plan.counts.items()],
            "kept": plan.kept,
        }
        return TemplateResponse(request, "admin/people/citizen/erase.html", context)


@admin.register(m.RetentionPolicy)
class RetentionPolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """How long each kind of data is kept: one row, for council admins."""

    list_display = [
        "__str__",
        "raw_message_days",
        "attachment_days",
        "search_log_days",
        "staged_file_hours",
        "closed_case_years",
        "security_event_days",
        "updated_at",
    ]
    readonly_fields = ["updated_at", "updated_by"]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        retention_policy_ensure()  # the one row exists, with the settings' defaults
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.updated_by = request.user if isinstance(request.user, AbstractBaseUser) else None
        super().save_model(request, obj, form, change)


@admin.register(m.ApplicationService)
class ApplicationServiceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Which catalogue service a rules programme's or a permit's "Apply" opens."""

    list_display = ["service_type", "programme", "permit", "active"]
    list_filter = ["active"]
    autocomplete_fields = ["service_type"]
