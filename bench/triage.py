"""Benchmark: the triage classifier against a plain TF-IDF + logistic regression baseline.

Reads the Boston Open311 requests (description → service_code, rows with an empty
description skipped), holds out a stratified --holdout (seed 42), trains our classifier and
the baseline on the rest in the same run and scores both on the held-out rows: accuracy,
macro-F1, per-class F1, top-3 accuracy, Brier score and ECE, batch throughput and the
latency of one text per call (p50/p95/p99). Prediction runs on one thread (OpenMP and
BLAS pools set to 1 before numpy loads); training uses two threads for its SVM fits, as in
production. Also times training on --train-rows rows (the file's rows repeated to reach
that many) and reports peak RSS.

    .venv/bin/python bench/triage.py [--csv FILE] [--holdout 0.2] [--train-rows 100000]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

# One thread for OpenMP and BLAS, set before numpy and scikit-learn are imported (in main).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_CSV = ROOT.parent / "shared/data/311_boston_open311/boston_open311_requests_train.csv"


def parse_args() -> argparse.Namespace:
    from smoke import add_smoke, apply_smoke  # bench/smoke.py (the script's own folder)

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--text-column", default="description")
    parser.add_argument("--label-column", default="service_code")
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--train-rows", type=int, default=100_000, help="0 to skip")
    parser.add_argument("--latency-samples", type=int, default=2_000)
    add_smoke(parser)
    args = parser.parse_args()
    apply_smoke(args, train_rows=0, latency_samples=50)
    return args


def machine() -> str:
    model = ""
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout  # noqa: S607
        model = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in lscpu.splitlines()
                if ln.startswith("Model name")
            ),
            "",
        )
    except OSError:
        pass
    return f"{platform.machine()} ({model or 'unknown CPU'}, {os.cpu_count()} cores), Python {platform.python_version()}"


def main() -> int:
    args = parse_args()
    import sklearn
    from sklearn.model_selection import train_test_split
    from threadpoolctl import threadpool_limits

    from townhall.intake.triage import baseline_train, classifier_evaluate, classifier_train

    texts: list[str] = []
    labels: list[str] = []
    skipped = 0
    with args.csv.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            text, label = row[args.text_column].strip(), row[args.label_column].strip()
            if text and label:
                texts.append(text)
                labels.append(label)
            else:
                skipped += 1
    if args.smoke:  # every 20th row (all labels kept): it runs in seconds
        texts, labels = texts[::20], labels[::20]
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}, scikit-learn {sklearn.__version__}"
    )
    print(
        f"{args.csv.name}: {len(texts):,} rows, {len(set(labels))} labels, {skipped:,} skipped (empty)"
    )
    train_x, test_x, train_y, test_y = train_test_split(
        texts, labels, test_size=args.holdout, random_state=args.seed, stratify=labels
    )
    print(f"train {len(train_x):,}, held out {len(test_x):,} (stratified, seed {args.seed})\n")

    results = []
    for name, train in (("ours", classifier_train), ("baseline", baseline_train)):
        started = time.perf_counter()
        clf = train(train_x, train_y)
        seconds = time.perf_counter() - started
        with threadpool_limits(limits=1):
            report = classifier_evaluate(clf, test_x, test_y, latency_samples=args.latency_samples)
        results.append((name, report, seconds))

    print(f"{'':24}{'ours':>10}{'baseline':>10}{'delta':>10}")
    (_, ours, ours_s), (_, base, base_s) = results
    for title, a, b, fmt in [
        ("macro-F1", ours.macro_f1, base.macro_f1, ".4f"),
        ("accuracy", ours.accuracy, base.accuracy, ".4f"),
        ("top-3 accuracy", ours.top3_accuracy, base.top3_accuracy, ".4f"),
        ("Brier score", ours.brier, base.brier, ".4f"),
        ("ECE (15 bins)", ours.ece, base.ece, ".4f"),
        ("texts/s, batch, 1 thr", ours.texts_per_second, base.texts_per_second, ".0f"),
        ("p50 ms, one text", ours.latency_p50_ms, base.latency_p50_ms, ".2f"),
        ("p95 ms, one text", ours.latency_p95_ms, base.latency_p95_ms, ".2f"),
        ("p99 ms, one text", ours.latency_p99_ms, base.latency_p99_ms, ".2f"),
        ("train s", ours_s, base_s, ".1f"),
    ]:
        print(f"{title:24}{a:>10{fmt}}{b:>10{fmt}}{a - b:>+10{fmt}}")
    print("\nper-class F1 (ours / baseline, support):")
    base_f1 = {c.label: c.f1 for c in base.per_class}
    for c in ours.per_class:
        print(
            f"  {c.label:28} {c.f1:.3f} / {base_f1[c.label]:.3f}  P {c.precision:.3f} R {c.recall:.3f}  n={c.support:,}"
        )
    print("\nreliability (ours): bin upper edge, mean confidence, accuracy, texts")
    for hi, said, was, n in ours.confidence_bins:
        print(f"  ≤{hi:.2f}  {said:.3f}  {was:.3f}  {n:,}")

    if args.train_rows:
        repeat = (args.train_rows + len(texts) - 1) // len(texts)
        big_x, big_y = (texts * repeat)[: args.train_rows], (labels * repeat)[: args.train_rows]
        started = time.perf_counter()
        clf = classifier_train(big_x, big_y)
        print(
            f"\ntraining on {len(big_x):,} rows: {time.perf_counter() - started:.1f} s; model blob {len(clf.to_bytes()) / 1e6:.1f} MB"
        )

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:,.0f} MB")
    goals = [
        ("macro-F1 ≥ baseline + 0.03", ours.macro_f1 >= base.macro_f1 + 0.03),
        ("macro-F1 ≥ 0.95", ours.macro_f1 >= 0.95),
        ("≥ 5,000 texts/s batch", ours.texts_per_second >= 5000),
        ("p95 one text < 5 ms", ours.latency_p95_ms < 5),
    ]
    print("goals: " + "; ".join(f"{g}: {'met' if ok else 'NOT met'}" for g, ok in goals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
