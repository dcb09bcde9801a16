"""Benchmark: storing and loading the triage model, the pickle of before issue 16 against the
words-and-numbers format of triage_storage.

Trains the demo's model (townhall/demo/data/triage_examples.csv) and, per format, times
--repeat dumps and loads (medians and minimum), reports the blob size and checks that the
loaded model's probabilities equal the trained one's. The pickle is made here only to
measure it: the product no longer reads one.

    .venv/bin/python bench/triage_storage.py [--repeat 7] [--smoke]
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _timed(action: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    timings, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        timings.append((time.perf_counter() - started) * 1000)
    return timings, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from smoke import add_smoke, apply_smoke  # bench/smoke.py

    add_smoke(parser)
    args = parser.parse_args()
    apply_smoke(args, repeat=1)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townhall.settings")
    import django

    django.setup()
    import numpy as np

    from townhall.intake.demo_triage import demo_triage_examples
    from townhall.intake.triage import TriageClassifier, classifier_train

    texts, labels = demo_triage_examples()
    trained = classifier_train(texts, labels)
    expected = trained.probabilities(texts[:500])
    print(f"demo model: {len(texts):,} texts, {len(trained.labels)} labels")
    formats: list[tuple[str, Callable[[], bytes], Callable[[bytes], Any]]] = [
        (
            "pickle + zlib (before)",
            lambda: zlib.compress(pickle.dumps(trained, protocol=pickle.HIGHEST_PROTOCOL), 3),
            lambda blob: pickle.loads(zlib.decompress(blob)),  # noqa: S301 (our own bytes)
        ),
        ("JSON + .npy (after)", trained.to_bytes, TriageClassifier.from_bytes),
    ]
    print(f"{'format':24} {'MB':>6} {'dump ms':>8} {'load ms':>8} {'load min':>9} {'max |dp|':>9}")
    for name, dump, load in formats:
        dumps, blob = _timed(dump, args.repeat)
        loads, loaded = _timed(lambda blob=blob, load=load: load(blob), args.repeat)
        gap = float(np.abs(loaded.probabilities(texts[:500]) - expected).max())
        print(
            f"{name:24} {len(blob) / 1e6:6.2f} {statistics.median(dumps):8.0f} "
            f"{statistics.median(loads):8.0f} {min(loads):9.0f} {gap:9.1e}"
        )


if __name__ == "__main__":
    main()
