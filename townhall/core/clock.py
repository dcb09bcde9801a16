"""The one place that reads the wall clock, so that tests and pure modules can take `now`."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """Return the current moment as an aware UTC datetime."""
    return timezone.now()
