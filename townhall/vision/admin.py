"""Admin: the tag set councils configure, staff's review of photo tags, the trained heads.

Staff review tags in "Photo tags": filter by tag, source or confirmation; "Confirm" marks
the model's guesses right; "Correct…" says what a photo really shows (or "nothing the
council deals with"). Both feed the next head ("Train a new head" on the heads' list, or
`townhall vision_train`). Only photos of cases the user may see are listed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy

from townhall.cases.access import access_cases
from townhall.vision import services
from townhall.vision.errors import VisionError
from townhall.vision.models import PhotoTag, VisionHead, VisionTag
from townhall.vision.selectors import tag_choices


@admin.register(VisionTag)
class VisionTagAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "code",
        "label",
        "service_code",
        "threshold",
        "propose_threshold",
        "active",
        "position",
    ]
    list_editable = ["threshold", "propose_threshold", "active", "position"]
    list_filter = ["active", "service_code"]
    search_fields = ["code", "label", "service_code"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.vision_cache_clear()


class CorrectForm(forms.Form):
    tag = forms.ChoiceField(label=gettext_lazy("This photo shows"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["tag"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = tag_choices(with_none=True)


@admin.register(PhotoTag)
class PhotoTagAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "preview",
        "case_reference",
        "tag",
        "confidence",
        "source",
        "confirmed_at",
        "correct_link",
    ]
    list_filter = ["tag", "source", ("confirmed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["photo__case"]
    readonly_fields = [f.name for f in PhotoTag._meta.fields]
    actions = ["confirm"]

    class Media:
        css = {"all": ["core/admin.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[PhotoTag]:
        visible = access_cases(request.user).values("pk")
        return super().get_queryset(request).filter(photo__case__in=visible)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=gettext_lazy("Photo"))
    def preview(self, row: PhotoTag) -> str:
        url = reverse("admin:cases_case_photo", args=[row.photo_id])
        return format_html(
            '<a href="{}"><img src="{}" alt="Photo {}" class="th-admin-thumb"></a>',
            url,
            url,
            row.photo_id,
        )

    @admin.display(description=gettext_lazy("Case"))
    def case_reference(self, row: PhotoTag) -> str:
        return str(row.photo.case.reference)

    @admin.display(description=gettext_lazy("Correct"))
    def correct_link(self, row: PhotoTag) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:vision_phototag_correct", args=[row.pk]),
            gettext("Correct…"),
        )

    @admin.action(description=gettext_lazy("Confirm the selected tags (the photo shows it)"))
    def confirm(self, request: HttpRequest, queryset: QuerySet[PhotoTag]) -> None:
        for pk in queryset.values_list("pk", flat=True):
            services.photo_tag_confirm(pk, request.user)
        self.message_user(request, gettext("Tags confirmed."), messages.SUCCESS)

    def get_urls(self) -> list[Any]:
        extra = [
            path(
                "<int:tag_id>/correct/",
                self.admin_site.admin_view(self.correct_view),
                name="vision_phototag_correct",
            )
        ]
        return extra + super().get_urls()

    def correct_view(self, request: HttpRequest, tag_id: int) -> HttpResponseBase:
        if not self.has_change_permission(request):
            raise PermissionDenied
        row = self.get_queryset(request).filter(pk=tag_id).first()
        if row is None:
            raise Http404
        form = CorrectForm(request.POST or None, initial={"tag": row.tag})
        if request.method == "POST" and form.is_valid():
            try:
                services.photo_tag_correct(row.photo_id, form.cleaned_data["tag"], request.user)
            except VisionError as exc:
                form.add_error("tag", str(exc))
            else:
                self.message_user(request, gettext("Tag corrected."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:vision_phototag_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("What does this photo show?"),
            "opts": self.model._meta,
            "row": row,
            "photo_url": reverse("admin:cases_case_photo", args=[row.photo_id]),
            "form": form,
        }
        return TemplateResponse(request, "admin/vision/phototag/correct.html", context)


@admin.register(VisionHead)
class VisionHeadAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "created_at", "rows", "labels", "metrics", "active"]
    list_filter = ["active"]
    exclude = ["blob"]
    change_list_template = "admin/vision/visionhead/change_list.html"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in VisionHead._meta.fields if f.name not in ("blob", "active")]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.vision_cache_clear()

    def get_urls(self) -> list[Any]:
        extra = [
            path(
                "train/",
                self.admin_site.admin_view(self.train_view),
                name="vision_visionhead_train",
            )
        ]
        return extra + super().get_urls()

    def train_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        if not self.has_change_permission(request):
            raise PermissionDenied
        head = services.vision_head_train(name="admin: staff feedback", user=request.user)
        if head is None:
            self.message_user(
                request,
                gettext(
                    "Not enough feedback yet: at least two tags need two confirmed photos each."
                ),
                messages.WARNING,
            )
        else:
            self.message_user(
                request,
                gettext("New head trained on %(rows)s photos.") % {"rows": head.rows},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:vision_visionhead_changelist"))
