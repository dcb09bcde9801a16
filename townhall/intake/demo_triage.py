"""The demo town's triage model, trained on the examples shipped with the demo.

townhall/demo/data/triage_examples.csv holds, per demo service code, the catalogue's own
words and real Boston 2015 case titles and crew notes (built by
bench/triage_demo_examples.py). The file is read by path, not imported, so intake does
not depend on the demo package.
"""

from __future__ import annotations

import csv
import io
import time
from importlib import resources

from townhall.intake.models import TriageModel
from townhall.intake.services_triage import triage_model_save
from townhall.intake.triage import classifier_train

EXAMPLES = "demo/data/triage_examples.csv"


def demo_triage_examples() -> tuple[list[str], list[str]]:
    """The demo's training texts and their service codes."""
    text = resources.files("townhall").joinpath(EXAMPLES).read_text(encoding="utf-8")
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["text"] and r["service_code"]]
    return [r["text"] for r in rows], [r["service_code"] for r in rows]


def demo_triage_train() -> TriageModel:
    """Train the demo's triage model and store it as the active one."""
    texts, labels = demo_triage_examples()
    started = time.perf_counter()
    classifier = classifier_train(texts, labels)
    return triage_model_save(
        classifier=classifier,
        name="Demo: Millbrook catalogue and Boston 2015 cases",
        rows=len(texts),
        metrics={"train_seconds": round(time.perf_counter() - started, 1)},
    )
