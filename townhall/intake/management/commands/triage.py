"""`townhall triage train | eval`: teach the triage classifier a council's own history and
measure it against a plain TF-IDF + logistic regression baseline."""

from __future__ import annotations

import csv
import time
from argparse import ArgumentParser
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from sklearn.model_selection import train_test_split

from townhall.intake.models import TriageModel
from townhall.intake.services_triage import triage_model_save
from townhall.intake.triage import (
    MIN_PER_LABEL,
    EvalReport,
    TriageClassifier,
    baseline_train,
    classifier_evaluate,
    classifier_train,
)

# Descriptions pasted from e-mail threads can exceed csv's default 128 KiB field limit;
# the classifier reads only the first 2,000 characters anyway.
csv.field_size_limit(16 * 1024 * 1024)


@dataclass
class Examples:
    texts: list[str]
    labels: list[str]
    skipped: int


class Command(BaseCommand):
    help = (
        "The triage classifier that proposes a service type for a report. "
        "train: learn from a CSV of past reports and their service codes and store the model "
        "(active unless --no-activate). eval: hold out part of a CSV, train our classifier and "
        "the TF-IDF + logistic regression baseline on the rest and compare them; or, with "
        "--model, score a stored model on the whole CSV."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in [
            (
                "train",
                "Train on a CSV of past reports and store the model. Holds out --holdout of "
                "the rows to print a quick score (0 to train on everything).",
            ),
            (
                "eval",
                "Compare our classifier with the baseline on a stratified hold-out of a CSV, "
                "or score a stored model (--model) on all of it.",
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
        data = self._read(
            options["csv"], options["text_column"], options["label_column"], options["limit"]
        )
        if options["action"] == "train":
            self._train(data, options)
        elif options["model"] is not None:
            self._eval_stored(data, options["model"])
        else:
            self._compare(data, holdout, options["seed"], baseline=not options["no_baseline"])

    # --- reading ---------------------------------------------------------------------

    def _read(self, path: Path, text_column: str, label_column: str, limit: int | None) -> Examples:
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
        )
        return data

    # --- train -----------------------------------------------------------------------

    def _train(self, data: Examples, options: dict[str, Any]) -> None:
        holdout: float = options["holdout"]
        texts, labels = data.texts, data.labels
        test_texts: list[str] = []
        test_labels: list[str] = []
        if holdout > 0:
            texts, test_texts, labels, test_labels = _split(texts, labels, holdout, options["seed"])
        classifier, seconds = self._fit("Training", classifier_train, texts, labels)
        self.stdout.write(
            f"Trained on {len(texts):,} rows, {len(classifier.labels):,} labels in {seconds:.1f} s."
        )
        metrics: dict[str, Any] = {"train_seconds": round(seconds, 1), "skipped": data.skipped}
        if test_texts:
            report = classifier_evaluate(classifier, test_texts, test_labels)
            metrics.update(report.as_dict(), holdout=holdout)
            self.stdout.write(
                f"Held-out {len(test_texts):,} rows: accuracy {report.accuracy:.4f}, "
                f"macro-F1 {report.macro_f1:.4f}, top-3 {report.top3_accuracy:.4f}, "
                f"Brier {report.brier:.4f}, {report.texts_per_second:,.0f} texts/s."
            )
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
            report = classifier_evaluate(classifier, data.texts, data.labels)
        self.stdout.write(f"Model {stored.pk}: {stored}")
        self._reports([("model", report, None)])

    def _compare(self, data: Examples, holdout: float, seed: int, *, baseline: bool) -> None:
        texts, test_texts, labels, test_labels = _split(data.texts, data.labels, holdout, seed)
        self.stdout.write(
            f"Training on {len(texts):,} rows, scoring on {len(test_texts):,} held out "
            f"({holdout:.0%}, stratified, seed {seed})."
        )
        ours, ours_seconds = self._fit("Training ours", classifier_train, texts, labels)
        with self.console.status("Scoring ours…"):
            results: list[tuple[str, EvalReport, float | None]] = [
                ("ours", classifier_evaluate(ours, test_texts, test_labels), ours_seconds)
            ]
        if baseline:
            reference, seconds = self._fit("Training the baseline", baseline_train, texts, labels)
            with self.console.status("Scoring the baseline…"):
                report = classifier_evaluate(reference, test_texts, test_labels)
            results.append(("baseline", report, seconds))
        self._reports(results)

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
    lines: Iterator[str], *, text_column: str, label_column: str, limit: int | None
) -> Examples:
    """(text, label) pairs from CSV lines with a header; rows missing either are counted."""
    reader = csv.DictReader(lines)
    header = reader.fieldnames or []
    for column in (text_column, label_column):
        if column not in header:
            raise KeyError(column)
    texts: list[str] = []
    labels: list[str] = []
    skipped = 0
    for row in reader:
        text = (row.get(text_column) or "").strip()
        label = (row.get(label_column) or "").strip()
        if not (text and label):
            skipped += 1
            continue
        texts.append(text)
        labels.append(label)
        if limit is not None and len(texts) >= limit:
            break
    return Examples(texts, labels, skipped)


def _split(
    texts: list[str], labels: list[str], holdout: float, seed: int
) -> tuple[list[str], list[str], list[str], list[str]]:
    """A stratified hold-out; labels seen only once go to the training part."""
    counts = Counter(labels)
    rare = [i for i, label in enumerate(labels) if counts[label] < 2]
    common = [i for i, label in enumerate(labels) if counts[label] >= 2]
    try:
        train, test = train_test_split(
            common, test_size=holdout, random_state=seed, stratify=[labels[i] for i in common]
        )
    except ValueError as exc:  # too few rows for the split asked for
        raise CommandError(f"Cannot hold out {holdout:.0%} of {len(labels)} rows: {exc}") from exc
    train = sorted(train + rare)
    return (
        [texts[i] for i in train],
        [texts[i] for i in test],
        [labels[i] for i in train],
        [labels[i] for i in test],
    )
