"""Admin screens for citizens (read-mostly: residents' data changes through services).

Staff who may change citizens merge two or more records of one person (a change-list
action leading to a confirmation page) and split a record that mixes two people (a
"Split…" link on the person's page); both go through people.services and leave a
PersonEvent, shown read-only on the person's page and in its own list.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from townhall.core.errors import DomainError
from townhall.core.security import SecurityEventKind, security_event
from townhall.people import models as m
from townhall.people.selectors import citizen_duplicates_likely, citizen_related_counts
from townhall.people.services import NAME_MAX, REASON_MAX, citizen_merge, citizen_split


class ContactPointInline(admin.TabularInline):  # type: ignore[type-arg]
    model = m.ContactPoint
    extra = 0


class ConsentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = m.ConsentRecord
    extra = 0
    readonly_fields = ["purpose", "granted", "at", "channel", "wording"]
    can_delete = False


class PersonEventInline(admin.TabularInline):  # type: ignore[type-arg]
    model = m.PersonEvent
    extra = 0
    fields = ("at", "kind", "actor_label", "reason", "subject_id", "data")
    readonly_fields = fields
    ordering = ["-at", "-id"]
    can_delete = False
    verbose_name = gettext_lazy("history entry")
    verbose_name_plural = gettext_lazy("history (merges, splits, contact points)")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Whoever may see the person sees their history (no separate permission to grant).
        user: Any = request.user
        return bool(user.has_perm("people.view_citizen") or user.has_perm("people.change_citizen"))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MergeForm(forms.Form):
    survivor = forms.TypedChoiceField(coerce=int, label=gettext_lazy("Record that carries on"))
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, people: list[m.Citizen], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["survivor"].choices = [(c.pk, str(c)) for c in people]  # type: ignore[attr-defined]


class SplitForm(forms.Form):
    contact_points = forms.TypedMultipleChoiceField(
        coerce=int, label=gettext_lazy("Contact points that belong to the other person")
    )
    display_name = forms.CharField(
        label=gettext_lazy("Name of the other person"), required=False, max_length=NAME_MAX
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, points: list[m.ContactPoint], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact_points"].choices = [(p.pk, str(p)) for p in points]  # type: ignore[attr-defined]


def citizens_visible(
    model_admin: admin.ModelAdmin,  # type: ignore[type-arg]
    request: HttpRequest,
    qs: QuerySet[Any],
    field: str = "pk",
) -> QuerySet[Any]:
    """Only the residents the console would show this member of staff.

    The rule lives above this app (cases.access: residents of cases in one's departments);
    the staff admin site lends it as ``citizens_visible_to``. Without it (another admin
    site), only superusers see residents.
    """
    user: Any = request.user
    scope = getattr(model_admin.admin_site, "citizens_visible_to", None)
    if scope is None:
        return qs if user.is_superuser else qs.none()
    visible = scope(user)
    if visible is None:
        return qs
    return qs.filter(**{f"{field}__in": visible.values("pk")})


def _actor(request: HttpRequest) -> AbstractBaseUser | None:
    user = request.user
    return user if isinstance(user, AbstractBaseUser) else None


@admin.register(m.Citizen)
class CitizenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["__str__", "preferred_language", "preferred_channel", "created_at"]
    search_fields = ["display_name", "contact_points__value"]
    inlines = [ContactPointInline, ConsentInline, PersonEventInline]
    actions = ["merge_people"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[m.Citizen]:
        return citizens_visible(self, request, super().get_queryset(request))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        citizen = self.get_object(request, object_id)
        if (
            citizen is not None
            and request.method == "GET"
            and self.has_view_or_change_permission(request, citizen)
        ):
            security_event(
                SecurityEventKind.RESIDENT_VIEWED,
                request=request,
                subject=f"citizen:{citizen.pk}",
                detail={"via": "admin"},
            )
        duplicates = citizen_duplicates_likely(citizen) if citizen is not None else []
        context = {"duplicates": duplicates, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=context)

    def get_urls(self) -> list[Any]:
        extra = [
            path(
                "merge/",
                self.admin_site.admin_view(self.merge_view),
                name="people_citizen_merge",
            ),
            path(
                "<path:object_id>/split/",
                self.admin_site.admin_view(self.split_view),
                name="people_citizen_split",
            ),
        ]
        return extra + super().get_urls()

    @admin.action(description=gettext_lazy("Merge selected people…"), permissions=["change"])
    def merge_people(
        self, request: HttpRequest, queryset: QuerySet[m.Citizen]
    ) -> HttpResponse | None:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        if len(ids) < 2:
            self.message_user(request, _("Select at least two people to merge."), messages.WARNING)
            return None
        query = urlencode({"ids": ",".join(str(pk) for pk in ids)})
        return HttpResponseRedirect(f"{reverse('admin:people_citizen_merge')}?{query}")

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "app_label": self.model._meta.app_label,
            "title": title,
            **extra,
        }

    def merge_view(self, request: HttpRequest) -> HttpResponse:
        """Confirm a merge: choose the record that carries on, see what moves, merge."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        raw = request.POST.get("ids") if request.method == "POST" else request.GET.get("ids")
        ids = sorted({int(part) for part in (raw or "").split(",") if part.strip().isdigit()})
        people = list(
            self.get_queryset(request)
            .filter(pk__in=ids)
            .select_related("user")
            .prefetch_related("contact_points")
            .order_by("pk")
        )
        changelist = reverse("admin:people_citizen_changelist")
        if len(people) < 2:
            self.message_user(request, _("Select at least two people to merge."), messages.WARNING)
            return HttpResponseRedirect(changelist)
        form = MergeForm(
            request.POST if request.method == "POST" else None,
            people=people,
            initial={"survivor": people[0].pk},
        )
        if request.method == "POST" and form.is_valid():
            survivor = next(c for c in people if c.pk == form.cleaned_data["survivor"])
            others = [c for c in people if c.pk != survivor.pk]
            try:
                with transaction.atomic():
                    for other in others:
                        survivor = citizen_merge(
                            source=other,
                            into=survivor,
                            actor=_actor(request),
                            reason=form.cleaned_data["reason"],
                        )
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(count)d people merged into %(name)s.")
                    % {"count": len(others), "name": survivor},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:people_citizen_change", args=[survivor.pk])
                )
        rows = [
            {
                "citizen": citizen,
                "points": list(citizen.contact_points.all()),
                "counts": citizen_related_counts(citizen),
                "checked": str(form["survivor"].value()) == str(citizen.pk),
            }
            for citizen in people
        ]
        context = self._context(
            request,
            _("Merge people"),
            form=form,
            rows=rows,
            ids=",".join(str(c.pk) for c in people),
            accounts=sum(1 for c in people if c.user_id is not None),
        )
        return TemplateResponse(request, "admin/people/citizen/merge.html", context)

    def split_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Move some of a person's contact points to a new person."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        citizen = self.get_object(request, object_id)
        if citizen is None:
            self.message_user(request, _("That person no longer exists."), messages.WARNING)
            return HttpResponseRedirect(reverse("admin:people_citizen_changelist"))
        if not self.has_change_permission(request, citizen):
            raise PermissionDenied
        points = list(citizen.contact_points.order_by("pk"))
        form = SplitForm(request.POST if request.method == "POST" else None, points=points)
        if request.method == "POST" and form.is_valid():
            try:
                new = citizen_split(
                    citizen=citizen,
                    contact_point_ids=form.cleaned_data["contact_points"],
                    actor=_actor(request),
                    reason=form.cleaned_data["reason"],
                    display_name=form.cleaned_data["display_name"],
                )
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                for field, problems in exc.details.items():
                    for problem in problems:
                        form.add_error(field if field in form.fields else None, problem)
            else:
                self.message_user(
                    request,
                    _("%(name)s split: the chosen contact points now belong to %(new)s.")
                    % {"name": citizen, "new": new},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:people_citizen_change", args=[new.pk]))
        chosen = {str(v) for v in (form["contact_points"].value() or [])}
        context = self._context(
            request,
            _("Split %(name)s") % {"name": citizen},
            form=form,
            original=citizen,
            points=[{"point": p, "checked": str(p.pk) in chosen} for p in points],
        )
        return TemplateResponse(request, "admin/people/citizen/split.html", context)


@admin.register(m.PersonEvent)
class PersonEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The audit trail of merges, splits and contact points: read-only, never edited."""

    list_display = ["at", "kind", "subject_id", "citizen", "actor_label", "reason"]
    list_filter = ["kind"]
    list_select_related = ["citizen"]
    search_fields = ["=subject_id", "=citizen__id", "actor_label", "reason"]
    date_hierarchy = "at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[m.PersonEvent]:
        return citizens_visible(self, request, super().get_queryset(request), field="citizen")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in m.PersonEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
