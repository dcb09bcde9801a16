"""Admin: council-editable templates with a preview, and the outbox with a retry action."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, linebreaks
from django.utils.translation import gettext_lazy

from townhall.core.errors import NotFound, ValidationFailed
from townhall.notify.alerts import alert_publish
from townhall.notify.models import (
    Alert,
    AlertSubscription,
    AlertTopic,
    DeliveryAttempt,
    Notification,
    NotificationTemplate,
    OptOut,
    WebhookSubscriber,
)
from townhall.notify.rendering import PLACEHOLDERS, template_check, template_render
from townhall.notify.services import notification_retry
from townhall.notify.webhooks import webhook_url_refusal

SAMPLE_VALUES = {
    "name": "Maria Delgado",
    "reference": "TH-26-004211",
    "service": "Missed trash pickup",
    "status": "In progress",
    "expected_date": "Friday 27 November 2026",
    "note": "Our crew will come back on Friday morning.",
    "tracking_url": "https://townhall.example.org/track/?reference=TH-26-004211",
    "survey_url": "https://townhall.example.org/survey/…/",
    "survey": "How did we do?\nPlease answer our one-question survey. Your answers help us "
    "improve our services:\nhttps://townhall.example.org/survey/…/\n\n",
    "unsubscribe_url": "https://townhall.example.org/notifications/stop/…/",
    "council": "Millbrook Town Council",
    "address": "12 Elm Street",
    "title": "Road closure on Main Street",
    "message": "Main Street is closed between Elm and Oak until 6pm.",
    "confirm_url": "https://townhall.example.org/subscriptions/confirm/…/",
    "subscription": "bin day reminders for 12 Elm Street",
    "day": "Friday 27 November 2026",
    "streams": "Garbage, Recycling",
    "time": "07:00",
    "minutes": "30",
    "sign_in_url": "https://townhall.example.org/account/sign-in/…/",
    "actor": "Keisha Brown",
    "count": "2",
    "references": "- TH-26-004211\n- TH-26-004212",
    "case_url": "https://townhall.example.org/console/cases/4211/",
}


class TemplateForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = NotificationTemplate
        fields = ["kind", "channel", "language", "subject", "body", "active"]
        help_texts = {
            "body": "Placeholders: " + ", ".join(f"{{{{ {name} }}}}" for name in PLACEHOLDERS),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for field in ("subject", "body"):
            problems = template_check(data.get(field) or "")
            if problems:
                self.add_error(field, "; ".join(problems))
        return data


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = TemplateForm
    list_display = ["kind", "channel", "language", "subject", "active"]
    list_filter = ["kind", "channel", "language", "active"]
    readonly_fields = ["preview"]

    @admin.display(description=gettext_lazy("Preview with sample values"))
    def preview(self, obj: NotificationTemplate) -> str:
        if obj.pk is None:
            return "Save to see a preview."
        if template_check(obj.subject) or template_check(obj.body):
            return "Fix the placeholders to see a preview."
        return format_html(
            "<p><strong>{}</strong></p>{}",
            template_render(obj.subject, SAMPLE_VALUES),
            linebreaks(template_render(obj.body, SAMPLE_VALUES)),
        )


class AttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["at", "outcome", "detail", "duration_ms"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "created_at",
        "kind",
        "channel",
        "to",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
    ]
    list_filter = ["status", "channel", "kind"]
    search_fields = ["to", "key", "provider_message_id"]
    inlines = [AttemptInline]
    actions = ["retry"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=gettext_lazy("Retry selected dead or failed notifications"))
    def retry(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        retried = 0
        for notification in queryset:
            try:
                notification_retry(notification=notification)
                retried += 1
            except NotFound:
                continue
        level = messages.SUCCESS if retried else messages.WARNING
        self.message_user(request, f"{retried} notification(s) queued again.", level)


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["citizen", "channel", "via", "at"]
    list_filter = ["channel", "via"]


@admin.register(AlertTopic)
class AlertTopicAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "code"]
    prepopulated_fields = {"code": ("name",)}


class AlertForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Alert
        fields = ["topic", "title", "message", "lat", "long", "radius_m", "polygon"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Publishing goes through `alert_publish`, which starts the fan-out."""

    form = AlertForm
    list_display = ["title", "topic", "fanout", "recipients", "published_at"]
    list_filter = ["topic", "fanout"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return [f.name for f in Alert._meta.fields if f.editable] + ["fanout", "recipients"]

    def save_model(self, request: HttpRequest, obj: Alert, form: Any, change: bool) -> None:
        if change:
            return
        try:
            published = alert_publish(
                topic=obj.topic,
                title=obj.title,
                message=obj.message,
                lat=obj.lat,
                long=obj.long,
                radius_m=obj.radius_m,
                polygon=obj.polygon,
            )
        except ValidationFailed as exc:
            self.message_user(request, f"{exc.message} {exc.details}", messages.ERROR)
            return
        obj.pk = published.pk
        self.message_user(
            request, "Published: the alert is on its way to subscribers.", messages.SUCCESS
        )


@admin.register(AlertSubscription)
class AlertSubscriptionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["citizen", "topic", "channel", "address", "radius_m", "active"]
    list_filter = ["topic", "channel", "active"]
    readonly_fields = ["min_lat", "max_lat", "min_long", "max_long"]


class WebhookSubscriberForm(forms.ModelForm):  # type: ignore[type-arg]
    url = forms.URLField(max_length=200, assume_scheme="https")

    class Meta:
        model = WebhookSubscriber
        fields = ["name", "url", "secret", "kinds", "active"]

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        refusal = webhook_url_refusal(url)
        if refusal:  # private, loopback, link-local… (checked again at every send)
            raise forms.ValidationError(refusal)
        return url


@admin.register(WebhookSubscriber)
class WebhookSubscriberAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = WebhookSubscriberForm
    list_display = ["name", "url", "active"]
    list_filter = ["active"]
