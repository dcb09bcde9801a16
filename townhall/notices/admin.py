"""Admin screens for notices, recalls and their codes. Every write goes through the
services (so each change is chained): create and edit in `save_model`, publish and
withdraw as actions, codes through the "Import codes" page (same import as the command)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse

from townhall.core.errors import ValidationFailed
from townhall.notices.imports import csv_codes_from_bytes, recall_codes_import
from townhall.notices.models import (
    Notice,
    NoticeEvent,
    NoticeKind,
    NoticeStatus,
    Recall,
    RecallCode,
)
from townhall.notices.services import (
    EDITABLE,
    notice_create,
    notice_publish,
    notice_update,
    notice_withdraw,
)

MAX_UPLOAD = 20 * 1024 * 1024


def _staff(request: HttpRequest) -> AbstractBaseUser | None:
    user = request.user
    return user if isinstance(user, AbstractBaseUser) else None


AREA = ("lat", "long", "radius_m", "polygon")


class NoticeForm(forms.ModelForm):  # type: ignore[type-arg]
    product = forms.CharField(max_length=200, required=False, help_text="Recalls only.")
    product_es = forms.CharField(max_length=200, required=False)

    class Meta:
        model = Notice
        fields = ["kind", "topic", *EDITABLE[:-1], *AREA]
        exclude: list[str] = []


class ImportForm(forms.Form):
    csv_file = forms.FileField(
        label="CSV file", help_text="One code per row; the column headed code, batch or lot."
    )


class NoticeEventInline(admin.TabularInline):  # type: ignore[type-arg]
    model = NoticeEvent
    extra = 0
    can_delete = False
    fields = ("seq", "kind", "at", "actor_label", "data", "hash")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = NoticeForm
    list_display = ["title", "kind", "status", "topic", "published_at", "ends_at"]
    list_filter = ["status", "kind", "topic"]
    search_fields = ["title"]
    inlines = [NoticeEventInline]
    actions = ["publish", "withdraw"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        closed = obj.status not in (NoticeStatus.DRAFT, NoticeStatus.PUBLISHED)
        fixed = ["kind", "status", "published_at", "withdrawn_at"]
        return [*fixed, *EDITABLE, *AREA] if closed else fixed

    def save_model(self, request: HttpRequest, obj: Notice, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if not change:
                texts: dict[str, Any] = {k: data.get(k) or "" for k in EDITABLE[:6]}
                area: dict[str, Any] = {k: data.get(k) for k in AREA}
                made = notice_create(
                    kind=data["kind"],
                    topic=data["topic"],
                    **texts,
                    **area,
                    starts_at=data.get("starts_at"),
                    ends_at=data.get("ends_at"),
                    product=data.get("product") or "",
                    product_es=data.get("product_es") or "",
                    actor=_staff(request),
                )
                obj.pk = made.pk
                return
            changed = {k: data[k] for k in form.changed_data if k in (*EDITABLE, *AREA)}
            product = {k: data[k] for k in form.changed_data if k in ("product", "product_es")}
            if changed or product:
                notice_update(obj.pk, actor=_staff(request), **changed, **product)
        except ValidationFailed as exc:
            self.message_user(request, f"{exc.message} {exc.details or ''}", messages.ERROR)

    @admin.action(description="Publish the selected drafts (and alert subscribers)")
    def publish(self, request: HttpRequest, queryset: QuerySet[Notice]) -> None:
        for notice in queryset:
            try:
                notice_publish(notice.pk, actor=_staff(request))
                self.message_user(request, f"Published: {notice}.", messages.SUCCESS)
            except ValidationFailed as exc:
                self.message_user(request, f"{notice}: {exc.message}", messages.ERROR)

    @admin.action(description="Withdraw the selected notices")
    def withdraw(self, request: HttpRequest, queryset: QuerySet[Notice]) -> None:
        for notice in queryset:
            try:
                notice_withdraw(notice.pk, actor=_staff(request))
                self.message_user(request, f"Withdrawn: {notice}.", messages.SUCCESS)
            except ValidationFailed as exc:
                self.message_user(request, f"{notice}: {exc.message}", messages.ERROR)

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<int:notice_id>/import-codes/",
                self.admin_site.admin_view(self.import_codes_view),
                name="notices_notice_import_codes",
            )
        ]
        return own + super().get_urls()

    def import_codes_view(self, request: HttpRequest, notice_id: int) -> HttpResponse:
        if not self.has_change_permission(request):
            return HttpResponse(status=403)
        notice = get_object_or_404(Notice, pk=notice_id, kind=NoticeKind.RECALL)
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["csv_file"]
            if upload.size > MAX_UPLOAD:
                form.add_error(
                    "csv_file", "The file is over 20 MB: use `townhall notices import-codes`."
                )
            else:
                try:
                    result = recall_codes_import(
                        notice.pk, csv_codes_from_bytes(upload.read()), actor=_staff(request)
                    )
                except ValidationFailed as exc:
                    form.add_error("csv_file", exc.message)
                else:
                    self.message_user(
                        request,
                        f"{result.read} read: {result.added} added, {result.present} already "
                        f"there, {result.invalid} invalid.",
                        messages.SUCCESS if not result.invalid else messages.WARNING,
                    )
                    for number, reason in result.invalid_lines:
                        self.message_user(request, f"line {number}: {reason}", messages.WARNING)
                    return HttpResponseRedirect(
                        reverse("admin:notices_notice_change", args=[notice.pk])
                    )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import codes: {notice}",
            "form": form,
            "notice": notice,
            "opts": self.model._meta,
        }
        return render(request, "admin/notices/import_codes.html", context)


@admin.register(Recall)
class RecallAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["product", "notice", "codes_count"]
    search_fields = ["product"]
    readonly_fields = ["notice", "product", "product_es", "codes_count", "codes_sum"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RecallCode)
class RecallCodeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Codes are looked up here; they change only through the import (chained)."""

    list_display = ["code", "recall"]
    search_fields = ["=code"]
    list_select_related = ["recall"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
