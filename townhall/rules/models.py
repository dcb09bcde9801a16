"""A council's own programme definitions: append-only versions that override shipped files."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy


class Programme(models.Model):
    """One saved version of a programme definition (the same format as the shipped YAML)."""

    rule_id = models.SlugField(max_length=63, db_index=True)
    version = models.PositiveIntegerField()
    definition = models.JSONField()
    is_active = models.BooleanField(
        default=True,
        help_text=gettext_lazy("Untick every version to fall back to the shipped rules."),
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["rule_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["rule_id", "version"], name="rules_programme_version")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.version}"
