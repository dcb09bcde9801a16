"""Admin for forwarding: bodies (with their service mappings), routing rules, and forwards
read-only with their syncs, which staff can send again or take back (docs/forwarding.md).

Secrets (the API key, the inbound secret) are write-only: the form never shows them, an
empty field keeps the stored value, and "clear" empties it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from townhall.catalog.boundary import boundary_clean
from townhall.core.errors import ValidationFailed
from townhall.forwarding.client import RemoteError
from townhall.forwarding.models import Body, Forward, ForwardState, ForwardSync, RoutingRule
from townhall.forwarding.models import ServiceMapping as Mapping
from townhall.forwarding.sending import client_for, forward_resend, forward_withdraw

SECRETS = ("api_key", "inbound_secret")


class BodyForm(forms.ModelForm):  # type: ignore[type-arg]
    endpoint = forms.URLField(
        label=_("endpoint"), max_length=500, required=False, assume_scheme="https"
    )
    api_key = forms.CharField(
        label=_("API key"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Never shown after saving; leave empty to keep the one stored."),
    )
    inbound_secret = forms.CharField(
        label=_("inbound secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Never shown after saving; leave empty to keep the one stored."),
    )
    clear_secrets = forms.BooleanField(
        label=_("remove the stored API key and inbound secret"), required=False
    )

    class Meta:
        model = Body
        fields = [
            "name",
            "slug",
            "kind",
            "active",
            "public_name",
            "public_note",
            "boundary",
            "endpoint",
            "jurisdiction_id",
            "api_key",
            "inbound_secret",
            "send_personal_data",
            "supports_updates",
            "status_map",
            "poll_seconds",
            "timeout_seconds",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in SECRETS:  # never sent back to the browser
            self.initial[name] = ""

    def clean_boundary(self) -> dict[str, Any] | None:
        try:
            return boundary_clean(self.cleaned_data.get("boundary"))
        except ValidationFailed as exc:
            raise ValidationError(exc.details["boundary"]) from None

    def clean_endpoint(self) -> str:
        value = str(self.cleaned_data.get("endpoint") or "").strip()
        if value and not value.lower().startswith(("http://", "https://")):
            raise ValidationError(_("Give an address starting with http:// or https://."))
        return value

    def clean_status_map(self) -> dict[str, str]:
        value = self.cleaned_data.get("status_map") or {}
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ValidationError(_('Give an object of statuses: {"their status": "ours"}.'))
        return {k.lower(): v for k, v in value.items()}

    def clean_timeout_seconds(self) -> float:
        value = float(self.cleaned_data.get("timeout_seconds") or 0)
        if not 0.5 <= value <= 60:
            raise ValidationError(_("Give a timeout between 0.5 and 60 seconds."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == "open311" and not data.get("endpoint"):
            self.add_error("endpoint", _("An Open311 body needs its endpoint."))
        for name in SECRETS:
            if data.get("clear_secrets"):
                data[name] = ""
            elif not data.get(name):  # empty: keep what is stored
                data[name] = getattr(self.instance, name, "") or ""
        return data


class MappingForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Mapping
        fields = ["service_type", "remote_code", "attributes"]

    def clean_attributes(self) -> dict[str, Any]:
        value = self.cleaned_data.get("attributes") or {}
        ok = isinstance(value, dict) and all(
            isinstance(v, str)
            or (
                isinstance(v, dict)
                and isinstance(v.get("code", ""), str)
                and isinstance(v.get("values", {}), dict)
            )
            for v in value.values()
        )
        if not ok:
            raise ValidationError(
                _('Give {"our code": "their code"} or {"our code": {"code": …, "values": {…}}}.')
            )
        return dict(value)


class MappingInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Mapping
    form = MappingForm
    extra = 0


@admin.register(Body)
class BodyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = BodyForm
    list_display = ["name", "kind", "active", "endpoint", "has_key"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MappingInline]
    actions = ["test_connection"]

    @admin.display(boolean=True, description=_("API key set"))
    def has_key(self, body: Body) -> bool:
        return bool(body.api_key)

    fields = [*BodyForm.Meta.fields, "clear_secrets"]

    @admin.action(description=_("Test the connection (reads the service list)"))
    def test_connection(self, request: HttpRequest, queryset: QuerySet[Body]) -> None:
        for body in queryset:
            if body.kind != "open311" or not body.endpoint:
                self.message_user(
                    request, _("%(body)s: nothing to test.") % {"body": body}, messages.WARNING
                )
                continue
            try:
                services = client_for(body).get_services()
            except RemoteError as exc:
                text = str(exc).replace(body.api_key, "***") if body.api_key else str(exc)
                self.message_user(
                    request,
                    _("%(body)s: %(error)s") % {"body": body, "error": text},
                    messages.ERROR,
                )
                continue
            self.message_user(
                request,
                ngettext(
                    "%(body)s answers: %(n)s service.",
                    "%(body)s answers: %(n)s services.",
                    len(services),
                )
                % {"body": body, "n": len(services)},
            )


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["__str__", "body", "order", "active", "services"]
    list_filter = ["active", "body"]
    filter_horizontal = ["service_types"]
    fields = ["body", "service_types", "order", "active"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RoutingRule]:
        return (
            super().get_queryset(request).select_related("body").prefetch_related("service_types")
        )

    @admin.display(description=_("services"))
    def services(self, rule: RoutingRule) -> str:
        codes = [s.code for s in rule.service_types.all()]
        return ", ".join(codes) if codes else str(_("every service"))


class SyncInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ForwardSync
    extra = 0
    can_delete = False
    fields = ["at", "kind", "ok", "remote_status", "detail", "elapsed_ms"]
    readonly_fields = ["at", "kind", "ok", "remote_status", "detail", "elapsed_ms"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Forward)
class ForwardAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["case", "body", "state", "remote_id", "attempts", "next_attempt_at"]
    list_filter = ["state", "body"]
    search_fields = ["remote_id", "case__id"]
    list_select_related = ["case", "body"]
    readonly_fields = [
        "case",
        "body",
        "state",
        "remote_id",
        "remote_token",
        "remote_status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
        "last_synced_at",
        "updates_after",
    ]
    fields = list(readonly_fields)
    inlines = [SyncInline]
    actions = ["resend", "withdraw"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Send the failed ones again"))
    def resend(self, request: HttpRequest, queryset: QuerySet[Forward]) -> None:
        done = 0
        for forward in queryset.filter(state=ForwardState.FAILED):
            try:
                forward_resend(forward=forward, actor=request.user)  # type: ignore[arg-type]
            except ValidationFailed:  # changed meanwhile
                continue
            done += 1
        skipped = queryset.exclude(state=ForwardState.FAILED).count()
        self.message_user(
            request,
            _("%(done)s sent again; %(skipped)s not failed, left alone.")
            % {"done": done, "skipped": skipped},
        )

    @admin.action(description=_("Take back (the case stays with us)"))
    def withdraw(self, request: HttpRequest, queryset: QuerySet[Forward]) -> None:
        # The reason comes from the changelist's action form: the search box is not it.
        reason = str(request.POST.get("reason") or "").strip() or str(_("taken back in the admin"))
        done = 0
        for forward in queryset:
            try:
                forward_withdraw(forward=forward, actor=request.user, reason=reason)  # type: ignore[arg-type]
            except ValidationFailed as exc:
                self.message_user(request, f"{forward}: {exc}", messages.WARNING)
                continue
            done += 1
        self.message_user(request, _("%(done)s taken back.") % {"done": done})
