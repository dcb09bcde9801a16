"""`townhall triage train | eval`: teach the triage classifier a council's own history, choose
the confidence above which it routes reports without a person, and measure both against a
tuned linear baseline on reports neither saw (later ones when the history has dates)."""

from __future__ import annotations

import csv
import time
from argparse import ArgumentParser
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from townhall.intake.models import TriageModel
from townhall.intake.services_triage import triage_model_save
from townhall.intake.triage import (
    MIN_PER_LABEL,
    EvalReport,
    TriageClassifier,
    baseline_train,
    classifier_evaluate,
    classifier_thresholds_fit,
    classifier_train,
    text_normalise,
)
from townhall.intake.triage_threshold import TARGET_PRECISION, Split, Thresholds, split_three

# Descriptions pasted from e-mail threads can exceed csv's default 128 KiB field limit;
# the classifier reads only the first 2,000 characters anyway.
csv.field_size_limit(16 * 1024 * 1024)


@dataclass
class Examples:
    texts: list[str]
    labels: list[str]
    skipped: int
    dates: list[str] | None = None


class Command(BaseCommand):
    help = (
        "The triage classifier that proposes a service type for a report. "
        "train: learn from a CSV of past reports and their service codes, choose the "
        "confidence threshold for routing without a person on a tuning split, and store the "
        "model (active unless --no-activate). eval: split a CSV into training, tuning and "
        "held-out parts (each service's latest reports held out with --date-column; texts "
        "seen in an earlier part dropped from the later ones), train our classifier and the "
        "tuned linear baseline, and print for both, on the held-out part, accuracy, macro-F1 "
        "and, at the threshold chosen on the tuning part, the share routed and its precision; "
        "or, with --model, score a stored model on the whole CSV."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in [
            (
                "train",
                "Train on a CSV of past reports, choose the routing threshold on --tune of "
                "them and store the model. Holds out --holdout of the rows to print a quick "
                "score (0 to score nothing).",
            ),
            (
                "eval",
                "Compare our classifier with the tuned baseline on held-out rows never seen "
                "in training (each service's latest with --date-column, else a stratified "
                "random share), each routing at the threshold chosen on --tune rows; or "
                "score a stored model (--model) on all of the CSV at its own threshold.",
            ),
        ]:
            action = sub.add_parser(name, help=text, description=text)
            action.add_argument(
                "--csv", type=Path, required=True, help="CSV file with a header row (UTF-8)."
            )
            action.add_argument(
                "--text-column", required=True, help="Column with the report's text."
            )
            action.add_argument(
                "--label-column",
                required=True,
                help="Column with the service code the report ended up with.",
            )
            action.add_argument(
                "--limit", type=int, help="Use only the first N usable rows (for a quick try)."
            )
            action.add_argument(
                "--seed", type=int, default=42, help="Seed of the hold-out split (default 42)."
            )
            action.add_argument(
                "--date-column",
                help="Column with the report's date (ISO 8601): hold out each service's "
                "latest reports instead of a random share.",
            )
            action.add_argument(
                "--tune",
                type=float,
                default=0.1,
                help="Share of rows (before the held-out ones) on which the routing threshold "
                "is chosen (default 0.1; 0 for no threshold).",
            )
            action.add_argument(
                "--target",
                type=float,
                default=TARGET_PRECISION,
                help="Precision the reports routed without a person must reach on the tuning "
                f"rows (default {TARGET_PRECISION}).",
            )
            if name == "train":
                action.add_argument(
                    "--name", help="What to call the model (default: file and columns)."
                )
                action.add_argument(
                    "--no-activate",
                    action="store_true",
                    help="Store the model without making it the one intake uses.",
                )
                action.add_argument(
                    "--holdout",
                    type=float,
                    default=0.1,
                    help="Share of rows kept out of training to score the model (default 0.1).",
                )
            else:
                action.add_argument(
                    "--model",
                    type=int,
                    help="Id of a stored triage model to score on the whole file instead.",
                )
                action.add_argument(
                    "--holdout",
                    type=float,
                    default=0.2,
                    help="Share of rows held out for scoring (default 0.2).",
                )
                action.add_argument(
                    "--no-baseline",
                    action="store_true",
                    help="Do not train the TF-IDF + logistic regression baseline.",
                )

    def handle(self, *args: Any, **options: Any) -> None:
        self.console = Console(stderr=True, quiet=options["verbosity"] == 0)
        holdout: float = options["holdout"]
        if not 0 <= holdout < 1 or (options["action"] == "eval" and holdout == 0):
            raise CommandError(
                "--holdout must be a fraction: at least 0 (train) or above 0 (eval), below 1."
            )
        if not 0 <= options["tune"] < 1 or holdout + options["tune"] >= 1:
            raise CommandError("--tune must be a fraction, and --tune + --holdout below 1.")
        if not 0 < options["target"] <= 1:
            raise CommandError("--target must be a precision above 0, at most 1.")
        data = self._read(
            options["csv"],
            options["text_column"],
            options["label_column"],
            options["limit"],
            options["date_column"],
        )
        if options["action"] == "train":
            self._train(data, options)
        elif options["model"] is not None:
            self._eval_stored(data, options["model"])
        else:
            self._compare(data, options, baseline=not options["no_baseline"])

    # --- reading ---------------------------------------------------------------------

    def _read(
        self,
        path: Path,
        text_column: str,
        label_column: str,
        limit: int | None,
        date_column: str | None = None,
    ) -> Examples:
        try:
            size = path.stat().st_size
            with path.open(newline="", encoding="utf-8-sig") as handle:
                progress = Progress(
                    TextColumn("Reading {task.description}"),
                    BarColumn(),
                    DownloadColumn(),
                    TimeRemainingColumn(),
                    console=self.console,
                    transient=True,
                )
                with progress:
                    bar = progress.add_task(path.name, total=size)
                    data = _examples(
                        _counted(handle, lambda n: progress.advance(bar, n)),
                        text_column=text_column,
                        label_column=label_column,
                        limit=limit,
                        date_column=date_column,
                    )
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {path}") from exc
        except KeyError as exc:
            raise CommandError(f"{path} has no column {exc.args[0]!r}.") from exc
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        if not data.texts:
            raise CommandError(f"{path} has no row with both a text and a label.")
        counts = Counter(data.labels)
        if len(counts) < 2:
            raise CommandError(f"{path} has only one label ({data.labels[0]!r}); need at least 2.")
        self.stdout.write(
            f"{path.name}: {len(data.texts):,} rows, {len(counts):,} labels"
            + (f"; skipped {data.skipped:,} with an empty text or label" if data.skipped else "")
            + ("" if date_column is None or not data.skipped else " (or no ISO date)")
        )
        return data

    # --- train -----------------------------------------------------------------------

    def _split(self, data: Examples, options: dict[str, Any], holdout: float) -> Split:
        """Training, tuning and held-out rows (triage_threshold.split_three), said aloud."""
        split = split_three(
            data.texts,
            data.labels,
            tune=options["tune"],
            holdout=holdout,
            seed=options["seed"],
            dates=data.dates,
            normalise=text_normalise,
        )
        how = (
            f"each service's latest {holdout:.0%} by {options['date_column']}"
            if split.by_time
            else f"{holdout:.0%} of each service at random, seed {options['seed']}"
        )
        self.stdout.write(
            f"Training on {len(split.train):,} rows, tuning on {len(split.tune):,}, "
            f"scoring on {len(split.test):,} held out ({how}); dropped "
            f"{split.dropped_tune:,} tuning and {split.dropped_test:,} held-out rows whose "
            "text occurs in an earlier part."
        )
        return split

    def _train(self, data: Examples, options: dict[str, Any]) -> None:
        split = self._split(data, options, options["holdout"])
        texts, labels = _rows(data, split.train)
        classifier, seconds = self._fit("Training", classifier_train, texts, labels)
        self.stdout.write(
            f"Trained on {len(texts):,} rows, {len(classifier.labels):,} labels in {seconds:.1f} s."
        )
        metrics: dict[str, Any] = {"train_seconds": round(seconds, 1), "skipped": data.skipped}
        self._thresholds(classifier, data, split, options["target"], metrics)
        if split.test:
            report = classifier_evaluate(
                classifier, *_rows(data, split.test), thresholds=_active(classifier)
            )
            metrics.update(report.as_dict(), holdout=options["holdout"])
            self.stdout.write(
                f"Held-out {len(split.test):,} rows: accuracy {report.accuracy:.4f}, "
                f"macro-F1 {report.macro_f1:.4f}, top-3 {report.top3_accuracy:.4f}, "
                f"Brier {report.brier:.4f}, {report.texts_per_second:,.0f} texts/s."
            )
            self._routing("", report)
        name = options["name"] or (
            f"{options['csv'].name}: {options['text_column']} → {options['label_column']}"
        )
        stored = triage_model_save(
            classifier=classifier,
            name=name,
            rows=len(texts),
            metrics=metrics,
            activate=not options["no_activate"],
        )
        state = "active" if stored.active else "not active"
        self.stdout.write(self.style.SUCCESS(f"Stored triage model {stored.pk} ({state})."))

    def _thresholds(
        self,
        classifier: TriageClassifier,
        data: Examples,
        split: Split,
        target: float,
        metrics: dict[str, Any] | None = None,
    ) -> None:
        """Choose `classifier`'s routing thresholds on the tuning rows, when there are any."""
        if not split.tune:
            self.stdout.write(
                "No tuning rows: TOWNHALL_TRIAGE_THRESHOLD "
                f"({settings.TOWNHALL_TRIAGE_THRESHOLD}) decides what is routed."
            )
            return
        chosen = classifier_thresholds_fit(classifier, *_rows(data, split.tune), target=target)
        if metrics is not None:
            metrics["thresholds"] = chosen.as_dict()

    def _fit(
        self, what: str, train: Any, texts: Sequence[str], labels: Sequence[str]
    ) -> tuple[TriageClassifier, float]:
        started = time.perf_counter()
        with self.console.status(f"{what} on {len(texts):,} rows…") as status:

            def progress(message: str) -> None:
                status.update(f"{what}: {message}…")
                if message.startswith("Left out"):
                    self.stdout.write(message)

            try:
                if train is classifier_train:
                    classifier = classifier_train(texts, labels, progress=progress)
                else:
                    classifier = train(texts, labels)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        return classifier, time.perf_counter() - started

    # --- eval ------------------------------------------------------------------------

    def _eval_stored(self, data: Examples, model_id: int) -> None:
        stored = TriageModel.objects.filter(pk=model_id).first()
        if stored is None:
            raise CommandError(f"No triage model {model_id}.")
        try:
            classifier = TriageClassifier.from_bytes(bytes(stored.blob))
        except ValueError as exc:  # an old pickled model, or damaged bytes
            raise CommandError(f"Triage model {model_id}: {exc}") from exc
        with self.console.status(f"Scoring model {model_id} on {len(data.texts):,} rows…"):
            report = classifier_evaluate(
                classifier, data.texts, data.labels, thresholds=_active(classifier)
            )
        self.stdout.write(f"Model {stored.pk}: {stored}")
        self._reports([("model", report, None)])
        self._routing("", report)

    def _compare(self, data: Examples, options: dict[str, Any], *, baseline: bool) -> None:
        split = self._split(data, options, options["holdout"])
        texts, labels = _rows(data, split.train)
        test_texts, test_labels = _rows(data, split.test)
        if not test_texts:
            raise CommandError("No held-out rows left to score on.")
        trainers: list[tuple[str, Any]] = [("ours", classifier_train)]
        if baseline:
            trainers.append(("baseline", baseline_train))
        results: list[tuple[str, EvalReport, float | None]] = []
        for name, train in trainers:
            classifier, seconds = self._fit(f"Training {name}", train, texts, labels)
            self._thresholds(classifier, data, split, options["target"])
            with self.console.status(f"Scoring {name}…"):
                report = classifier_evaluate(
                    classifier, test_texts, test_labels, thresholds=_active(classifier)
                )
            results.append((name, report, seconds))
            if "C" in classifier.notes:
                self.stdout.write(f"{name} C (3-fold CV macro-F1): {classifier.notes['C']}")
        self._reports(results)
        for name, report, _ in results:
            self._routing("" if name == "ours" else f"{name}_", report)
        if baseline:
            (_, ours, _), (_, base, _) = results
            self.stdout.write(f"macro_f1_delta: {ours.macro_f1 - base.macro_f1:+.4f}")

    def _routing(self, prefix: str, report: EvalReport) -> None:
        """The held-out figures as `name: value` lines: the threshold, the share routed
        without a person and its precision, accuracy and macro-F1 over every text, and the
        precision had a given share of the most confident texts been routed."""
        write = self.stdout.write
        if report.thresholds is not None and report.routing is not None:
            write(f"{prefix}threshold: {report.thresholds.describe()}")
            write(f"{prefix}routed_share: {report.routing.share:.4f}")
            write(f"{prefix}routed_precision: {report.routing.precision:.4f}")
        write(f"{prefix}accuracy: {report.accuracy:.4f}")
        write(f"{prefix}macro_f1: {report.macro_f1:.4f}")
        write(
            f"{prefix}precision_at_share: "
            + ", ".join(f"{share:.2f} → {p:.4f}" for share, p, _ in report.curve)
        )

    def _reports(self, results: list[tuple[str, EvalReport, float | None]]) -> None:
        """Print the reports side by side, with our lead over the baseline when there is one."""
        delta = len(results) == 2
        names = [name for name, _, _ in results] + (["delta"] if delta else [])
        write = self.stdout.write
        write("")
        write(f"{'':26}" + "".join(f"{n:>11}" for n in names))
        rows: list[tuple[str, str, list[float | None]]] = [
            ("accuracy", ".4f", [r.accuracy for _, r, _ in results]),
            ("macro-F1", ".4f", [r.macro_f1 for _, r, _ in results]),
            ("top-3 accuracy", ".4f", [r.top3_accuracy for _, r, _ in results]),
            ("Brier score", ".4f", [r.brier for _, r, _ in results]),
            ("calibration error (ECE)", ".4f", [r.ece for _, r, _ in results]),
            ("texts/s (batch)", ",.0f", [r.texts_per_second for _, r, _ in results]),
            ("p50 ms (one text)", ".2f", [r.latency_p50_ms for _, r, _ in results]),
            ("p95 ms (one text)", ".2f", [r.latency_p95_ms for _, r, _ in results]),
            ("train seconds", ".1f", [s for _, _, s in results]),
        ]
        for title, fmt, values in rows:
            cells = ["" if v is None else format(v, fmt) for v in values]
            if delta and values[0] is not None and values[1] is not None:
                cells.append(format(values[0] - values[1], "+" + fmt.lstrip(",")))
            write(f"{title:26}" + "".join(f"{c:>11}" for c in cells))
        write("")
        header = f"{'per class':26}" + "".join(
            f"{name + ' P':>12}{'R':>7}{'F1':>7}" for name, _, _ in results
        )
        write(header + f"{'support':>9}")
        scores = [{c.label: c for c in r.per_class} for _, r, _ in results]
        for label in sorted(scores[0]):
            line = f"{label[:25]:26}"
            for by_label in scores:
                c = by_label[label]
                line += f"{c.precision:12.3f}{c.recall:7.3f}{c.f1:7.3f}"
            write(line + f"{scores[0][label].support:9,}")
        unknown = results[0][1].unknown_labels
        if unknown:
            write(
                f"{unknown:,} rows have a label the model cannot propose (fewer than "
                f"{MIN_PER_LABEL} training examples, or unseen)."
            )


def _counted(handle: TextIO, advance: Any) -> Iterator[str]:
    for line in handle:
        advance(len(line))
        yield line


def _examples(
    lines: Iterator[str],
    *,
    text_column: str,
    label_column: str,
    limit: int | None,
    date_column: str | None = None,
) -> Examples:
    """(text, label) pairs, and dates when asked, from CSV lines with a header; rows missing
    any of them (or with a date that is not ISO 8601) are counted, not kept."""
    reader = csv.DictReader(lines)
    header = reader.fieldnames or []
    for column in (text_column, label_column, date_column):
        if column is not None and column not in header:
            raise KeyError(column)
    texts: list[str] = []
    labels: list[str] = []
    dates: list[str] = []
    skipped = 0
    for row in reader:
        text = (row.get(text_column) or "").strip()
        label = (row.get(label_column) or "").strip()
        date = _utc((row.get(date_column) or "").strip()) if date_column else "-"
        if not (text and label and date):
            skipped += 1
            continue
        texts.append(text)
        labels.append(label)
        dates.append(date)
        if limit is not None and len(texts) >= limit:
            break
    return Examples(texts, labels, skipped, dates if date_column else None)


def _utc(value: str) -> str:
    """An ISO 8601 date or time as UTC text that sorts in time order; "" if it is not one."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat()


def _rows(data: Examples, rows: Sequence[int]) -> tuple[list[str], list[str]]:
    return [data.texts[i] for i in rows], [data.labels[i] for i in rows]


def _active(classifier: TriageClassifier) -> Thresholds:
    """The thresholds the pipeline routes with: the model's own, or the setting's."""
    return classifier.thresholds or Thresholds(overall=settings.TOWNHALL_TRIAGE_THRESHOLD)
