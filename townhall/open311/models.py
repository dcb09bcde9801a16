"""Open311's own records: client API keys and tokens for batch services."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    """A client allowed to POST requests; only the key's SHA-256 is stored."""

    name = models.CharField(max_length=200, help_text=_("Who uses it, e.g. 'FixMyStreet'."))
    contact = models.EmailField(blank=True)
    prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    requests_per_minute = models.PositiveIntegerField(default=60)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class RequestToken(models.Model):
    """The token a batch service answers with, and the case it became."""

    token = models.CharField(max_length=64, unique=True)
    case_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.token
