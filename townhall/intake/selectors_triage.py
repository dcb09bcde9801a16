"""Reads for triage: the active classifier, loaded once per process and model."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from townhall.intake.models import TriageModel

if TYPE_CHECKING:
    from townhall.intake.triage import TriageClassifier

logger = logging.getLogger(__name__)

# A classifier takes a few hundred milliseconds to load and a few megabytes to hold, so each
# process keeps the active one; one indexed query per call tells when another was activated.
_loaded: dict[int, TriageClassifier] = {}
_lock = threading.Lock()


def triage_classifier_cache_clear() -> None:
    """Forget the classifier this process holds (between tests)."""
    with _lock:
        _loaded.clear()


def triage_classifier_active() -> tuple[int, TriageClassifier] | None:
    """The id of the newest active TriageModel and its classifier, or None if there is none
    or it cannot be read (a model stored as a pickle before issue 16: it is logged, and
    reports wait for a person until a model is trained again)."""
    model_id = (
        TriageModel.objects.filter(active=True)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
        .first()
    )
    if model_id is None:
        return None
    with _lock:
        classifier = _loaded.get(model_id)
    if classifier is None:
        # scikit-learn and SciPy (~90 MB, ~1 s) load with the first classifier, not with
        # every process that imports the portal's service finder.
        from townhall.intake.triage import TriageClassifier
        from townhall.intake.triage_storage import ModelFormatError

        blob = TriageModel.objects.filter(id=model_id).values_list("blob", flat=True).first()
        if blob is None:  # deleted in between
            return None
        try:
            classifier = TriageClassifier.from_bytes(bytes(blob))
        except ModelFormatError as error:
            logger.warning("triage model %s not loaded: %s", model_id, error)
            return None
        with _lock:
            _loaded.clear()
            _loaded[model_id] = classifier
    return model_id, classifier
