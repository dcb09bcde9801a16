"""What the signed-callback endpoints remember: the signatures (or provider ids) of the
callbacks already taken, so a captured request cannot be played again."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy


class CallbackSeen(models.Model):
    """One callback taken: a digest of its kind and signature, kept for the replay window."""

    digest = models.CharField(max_length=64, primary_key=True)
    kind = models.CharField(max_length=20)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = gettext_lazy("callback seen")
        verbose_name_plural = gettext_lazy("callbacks seen")

    def __str__(self) -> str:
        return f"{self.kind} callback at {self.seen_at:%Y-%m-%d %H:%M:%S}"
