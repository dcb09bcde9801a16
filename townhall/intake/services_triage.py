"""Writes for triage: store a trained classifier as a TriageModel and make it the active one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from townhall.intake.models import TriageModel
from townhall.intake.triage import TriageClassifier


def triage_model_save(
    *,
    classifier: TriageClassifier,
    name: str,
    rows: int,
    metrics: Mapping[str, Any],
    activate: bool = True,
    user: AbstractBaseUser | None = None,
) -> TriageModel:
    """Store `classifier` with where it came from and how it scored.

    When `activate` is true it becomes the only active model, in one transaction, so the
    pipeline never sees two (or none while switching); each process notices the change on
    its next triage (see `triage_classifier_active`).
    """
    with transaction.atomic():
        if activate:
            TriageModel.objects.filter(active=True).update(active=False)
        return TriageModel.objects.create(
            name=name[:200],
            labels=list(classifier.labels),
            rows=rows,
            metrics=dict(metrics),
            blob=classifier.to_bytes(),
            active=activate,
            trained_by_id=user.pk if user is not None else None,
        )
