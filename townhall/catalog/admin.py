"""Admin screens for everything a council configures in its catalogue."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from townhall.catalog import models as m
from townhall.catalog.boundary import boundary_clean
from townhall.catalog.selectors import catalog_cache_clear
from townhall.core.errors import ValidationFailed


class CacheClearingAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Edits take effect at once in this process; other processes within a minute."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        catalog_cache_clear()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        catalog_cache_clear()


class ClosureInline(admin.TabularInline):  # type: ignore[type-arg]
    model = m.CalendarClosure
    extra = 1


class CalendarForm(ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = m.BusinessCalendar
        fields = ["name", "timezone", "country", "subdivision", "opens", "closes", "workdays"]

    def clean_workdays(self) -> list[int]:
        days = self.cleaned_data["workdays"]
        if not isinstance(days, list) or not days or not all(d in range(7) for d in days):
            raise ValidationError("List working weekdays as numbers 0 (Monday) to 6 (Sunday).")
        return sorted(set(days))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("opens") and data.get("closes") and data["opens"] >= data["closes"]:
            raise ValidationError("Opening time must be before closing time.")
        return data


@admin.register(m.BusinessCalendar)
class BusinessCalendarAdmin(CacheClearingAdmin):
    form = CalendarForm
    list_display = ["name", "timezone", "country", "subdivision", "opens", "closes"]
    inlines = [ClosureInline]


def _https_by_default(field: models.Field[Any, Any], **kwargs: Any) -> Any:
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class JurisdictionForm(ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = m.Jurisdiction
        formfield_callback = _https_by_default
        fields = [
            "slug",
            "name",
            "open311_id",
            "timezone",
            "calendar",
            "centre_lat",
            "centre_long",
            "website",
            "boundary",
            "outside_message",
            "outside_url",
        ]

    def clean_boundary(self) -> dict[str, Any] | None:
        try:
            return boundary_clean(self.cleaned_data.get("boundary"))
        except ValidationFailed as exc:
            raise ValidationError(exc.details["boundary"]) from None


@admin.register(m.Jurisdiction)
class JurisdictionAdmin(CacheClearingAdmin):
    form = JurisdictionForm
    list_display = ["name", "slug", "open311_id", "timezone", "calendar"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


def _own_departments(request: HttpRequest) -> QuerySet[m.Department] | None:
    """The departments whose members `request.user` manages: their own (None: all, for
    council administrators). A department admin cannot join, or add anyone to, another."""
    user: Any = request.user
    if user.is_superuser:
        return None
    return m.Department.objects.filter(members__user_id=user.pk)


def _staff_accounts() -> QuerySet[Any]:
    return get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")


class DepartmentMemberInline(admin.TabularInline):  # type: ignore[type-arg]
    model = m.DepartmentMember
    extra = 0
    fields = ["user", "takes_cases", "weight", "skills", "away_from", "away_until"]
    filter_horizontal = ["skills"]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user":
            kwargs["queryset"] = _staff_accounts()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(m.Department)
class DepartmentAdmin(CacheClearingAdmin):
    list_display = ["name", "code", "jurisdiction", "email", "phone"]
    list_filter = ["jurisdiction"]
    search_fields = ["name", "code"]
    inlines = [DepartmentMemberInline]


@admin.register(m.DepartmentMember)
class DepartmentMemberAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Who works in which department; department admins see and edit their own only."""

    list_display = ["user", "department", "takes_cases", "weight", "away_until"]
    list_filter = ["department", "takes_cases"]
    list_select_related = ["user", "department"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "department__name"]
    filter_horizontal = ["skills"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[m.DepartmentMember]:
        qs = super().get_queryset(request)
        own = _own_departments(request)
        return qs if own is None else qs.filter(department__in=own)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        own = _own_departments(request)
        if db_field.name == "department" and own is not None:
            kwargs["queryset"] = own
        if db_field.name == "user":
            kwargs["queryset"] = _staff_accounts()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(m.ServiceGroup)
class ServiceGroupAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "code", "jurisdiction"]


class AttributeFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    def clean(self) -> None:
        super().clean()
        for form in self.forms:
            data = getattr(form, "cleaned_data", {})
            if not data or data.get("DELETE"):
                continue
            values = data.get("values") or []
            if data.get("datatype") in {"singlevaluelist", "multivaluelist"}:
                ok = (
                    isinstance(values, list)
                    and len(values) >= 1
                    and all(isinstance(v, dict) and v.get("key") and v.get("name") for v in values)
                )
                if not ok:
                    form.add_error(
                        "values", 'A list needs values like [{"key": "a", "name": "A"}].'
                    )


class AttributeInline(admin.StackedInline):  # type: ignore[type-arg]
    model = m.AttributeDefinition
    formset = AttributeFormSet
    extra = 0


class SlaInline(admin.TabularInline):  # type: ignore[type-arg]
    model = m.SlaPolicy
    extra = 0


@admin.register(m.ServiceType)
class ServiceTypeAdmin(CacheClearingAdmin):
    list_display = ["name", "code", "group", "department", "open311_type", "active", "personal"]
    list_filter = ["active", "personal", "group", "department", "open311_type"]
    search_fields = ["name", "code", "description"]
    inlines = [SlaInline, AttributeInline]


@admin.register(m.SlaPolicy)
class SlaPolicyAdmin(CacheClearingAdmin):
    list_display = ["service_type", "priority", "target_hours", "clock"]
    list_filter = ["priority", "clock"]
