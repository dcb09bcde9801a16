"""Links to a case's private tracking page (the token lives in cases.tracking)."""

from __future__ import annotations

from django.urls import reverse

from townhall.cases.models import Case
from townhall.cases.tracking import case_id_from_token, track_token

__all__ = ["case_id_from_token", "track_token", "track_url"]


def track_url(case: Case) -> str:
    return reverse("portal:request", kwargs={"token": track_token(case)})
