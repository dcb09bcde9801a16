"""Benchmark: the triage classifier against a tuned linear baseline, and what it may route
without a person.

Reads the Boston Open311 requests (description → service_code, rows with an empty
description skipped) and splits them into training, tuning and held-out parts: each
service's latest --holdout of reports held out, the --tune before them tune (by
requested_datetime; `--split random` for a stratified random split, seed 42), and every
tuning or held-out text already seen in an earlier part dropped (triage_threshold.split_three).
Trains our classifier and the baseline (word TF-IDF + LinearSVC, C by 3-fold CV) on the
training part in the same run; each gets the lowest confidence threshold with precision
≥ --target on the tuning part; both are scored on the held-out part: the share routed
automatically and its precision, accuracy, macro-F1, per-class F1, the precision/coverage
curve, top-3 accuracy, Brier score and ECE, batch throughput and the latency of one text per
call (p50/p95/p99). Also the label-noise ceiling (identical texts with different services).
Prediction runs on one thread (OpenMP and BLAS pools set to 1 before numpy loads); training
uses two threads for its SVM fits, as in production. Also times training on --train-rows
rows (the file's rows repeated to reach that many) and reports peak RSS.

    .venv/bin/python bench/triage.py [--csv FILE] [--split time|random] [--train-rows 100000]
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
    parser.add_argument("--date-column", default="requested_datetime")
    parser.add_argument("--split", choices=("time", "random"), default="time")
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--tune", type=float, default=0.1)
    parser.add_argument("--target", type=float, default=0.98)
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
    from threadpoolctl import threadpool_limits

    from townhall.intake.triage import (
        baseline_train,
        classifier_evaluate,
        classifier_thresholds_fit,
        classifier_train,
        label_columns,
        text_normalise,
    )
    from townhall.intake.triage_threshold import (
        label_noise_ceiling,
        routing_measure,
        split_three,
        thresholds_candidates,
    )

    texts: list[str] = []
    labels: list[str] = []
    dates: list[str] = []
    skipped = 0
    with args.csv.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            text, label = row[args.text_column].strip(), row[args.label_column].strip()
            if text and label:
                texts.append(text)
                labels.append(label)
                moment = datetime.fromisoformat(row[args.date_column])
                dates.append(moment.astimezone(UTC).isoformat())
            else:
                skipped += 1
    if args.smoke:  # every 20th row (all labels kept): it runs in seconds
        texts, labels, dates = texts[::20], labels[::20], dates[::20]
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}, scikit-learn {sklearn.__version__}"
    )
    print(
        f"{args.csv.name}: {len(texts):,} rows, {len(set(labels))} labels, {skipped:,} skipped (empty)"
    )
    mixed, rows, forced = label_noise_ceiling(texts, labels, text_normalise)
    print(
        f"label noise: {mixed:,} distinct texts carry more than one service ({rows:,} rows); "
        f"they force {forced:,} errors ({forced / len(texts):.2%} of rows)"
    )
    split = split_three(
        texts,
        labels,
        tune=args.tune,
        holdout=args.holdout,
        seed=args.seed,
        dates=dates if args.split == "time" else None,
        normalise=text_normalise,
    )
    how = (
        f"each service's latest {args.holdout:.0%} by {args.date_column}"
        if split.by_time
        else f"{args.holdout:.0%} per service at random, seed {args.seed}"
    )
    print(
        f"train {len(split.train):,}, tune {len(split.tune):,}, held out {len(split.test):,} "
        f"({how}); dropped as seen before: {split.dropped_tune:,} tune, "
        f"{split.dropped_test:,} held out\n"
    )

    def rows(part: list[int]) -> tuple[list[str], list[str]]:
        return [texts[i] for i in part], [labels[i] for i in part]

    results = []
    for name, train in (("ours", classifier_train), ("baseline", baseline_train)):
        started = time.perf_counter()
        clf = train(*rows(split.train))
        seconds = time.perf_counter() - started
        classifier_thresholds_fit(clf, *rows(split.tune), target=args.target)
        with threadpool_limits(limits=1):
            tuning = classifier_evaluate(clf, *rows(split.tune), latency_samples=1)
            report = classifier_evaluate(
                clf, *rows(split.test), latency_samples=args.latency_samples
            )
        results.append((name, clf, tuning, report, seconds))

    (_, ours_clf, ours_tune, ours, ours_s), (_, base_clf, base_tune, base, base_s) = results
    assert ours.routing is not None
    assert base.routing is not None
    assert ours_tune.routing is not None
    assert base_tune.routing is not None
    print(f"baseline C (3-fold CV macro-F1 on the training part): {base_clf.notes['C']}")
    for name, clf in (("ours", ours_clf), ("baseline", base_clf)):
        assert clf.thresholds is not None
        print(
            f"{name} threshold (precision ≥ {args.target} on tuning): {clf.thresholds.describe()}"
        )
    print(f"\n{'held out':24}{'ours':>10}{'baseline':>10}{'delta':>10}")
    for title, a, b, fmt in [
        ("routed_share", ours.routing.share, base.routing.share, ".4f"),
        ("routed_precision", ours.routing.precision, base.routing.precision, ".4f"),
        ("macro-F1", ours.macro_f1, base.macro_f1, ".4f"),
        ("accuracy", ours.accuracy, base.accuracy, ".4f"),
        ("top-3 accuracy", ours.top3_accuracy, base.top3_accuracy, ".4f"),
        ("Brier score", ours.brier, base.brier, ".4f"),
        ("ECE (15 bins)", ours.ece, base.ece, ".4f"),
        ("tuning routed_share", ours_tune.routing.share, base_tune.routing.share, ".4f"),
        ("tuning routed_prec.", ours_tune.routing.precision, base_tune.routing.precision, ".4f"),
        ("texts/s, batch, 1 thr", ours.texts_per_second, base.texts_per_second, ".0f"),
        ("p50 ms, one text", ours.latency_p50_ms, base.latency_p50_ms, ".2f"),
        ("p95 ms, one text", ours.latency_p95_ms, base.latency_p95_ms, ".2f"),
        ("p99 ms, one text", ours.latency_p99_ms, base.latency_p99_ms, ".2f"),
        ("train s", ours_s, base_s, ".1f"),
    ]:
        print(f"{title:24}{a:>10{fmt}}{b:>10{fmt}}{a - b:>+10{fmt}}")
    print(
        "\nheld out, precision when the most confident share is routed (ours / baseline, threshold):"
    )
    for (share, p, t), (_, pb, tb) in zip(ours.curve, base.curve, strict=True):
        print(f"  {share:.2f}  {p:.4f} / {pb:.4f}  (≥ {t:.4f} / {tb:.4f})")
    print("\nheld out, one threshold for all against one per service (chosen on tuning):")
    for name, clf in (("ours", ours_clf), ("baseline", base_clf)):
        tune_x, tune_y = rows(split.tune)
        test_x, test_y = rows(split.test)
        candidates = thresholds_candidates(
            clf.probabilities(tune_x), label_columns(clf, tune_y), clf.labels, target=args.target
        )
        probs, truth = clf.probabilities(test_x), label_columns(clf, test_y)
        for kind, chosen in zip(("one for all", "per service"), candidates, strict=True):
            if chosen is None:
                continue
            held = routing_measure(probs, truth, clf.labels, chosen)
            print(
                f"  {name:9} {kind:12} routed_share {held.share:.4f} "
                f"routed_precision {held.precision:.4f}"
            )
    print("\nper-class F1 (ours / baseline, support):")
    base_f1 = {c.label: c.f1 for c in base.per_class}
    for c in ours.per_class:
        print(
            f"  {c.label:28} {c.f1:.3f} / {base_f1[c.label]:.3f}  P {c.precision:.3f} R {c.recall:.3f}  n={c.support:,}"
        )
    print("\nreliability (ours, held out): bin upper edge, mean confidence, accuracy, texts")
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
        ("routed precision ≥ 0.98", ours.routing.precision >= 0.98),
        ("routed share ≥ 0.85", ours.routing.share >= 0.85),
        ("macro-F1 > tuned baseline", ours.macro_f1 > base.macro_f1),
        ("≥ 5,000 texts/s batch", ours.texts_per_second >= 5000),
        ("p95 one text < 5 ms", ours.latency_p95_ms < 5),
    ]
    print("goals: " + "; ".join(f"{g}: {'met' if ok else 'NOT met'}" for g, ok in goals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
