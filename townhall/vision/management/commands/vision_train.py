"""`townhall vision_train`: train a new photo-recognition head from staff's feedback."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from townhall.vision.services import vision_head_train


class Command(BaseCommand):
    help = (
        "Train a new photo-recognition head (logistic regression on the backbone's features) "
        "from the tags staff confirmed or corrected, store it and make it the active one. "
        "Photos whose features are not stored yet are read and embedded first."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--min-per-tag",
            type=int,
            default=2,
            help="Tags with fewer confirmed photos are left out (default 2).",
        )
        parser.add_argument(
            "--name", default="vision_train: staff feedback", help="Name stored with the head."
        )
        parser.add_argument(
            "--no-activate",
            action="store_true",
            help="Store the head without making it the active one.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(file=self.stdout, highlight=False)  # type: ignore[arg-type]
        if options["min_per_tag"] < 1:
            raise CommandError("--min-per-tag must be at least 1")
        with Progress(
            TextColumn("embedding photos"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("embed", total=None)

            def step(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            head = vision_head_train(
                name=options["name"],
                min_per_tag=options["min_per_tag"],
                activate=not options["no_activate"],
                progress=step,
            )
        if head is None:
            raise CommandError(
                "Not enough feedback yet: at least two tags need --min-per-tag confirmed photos."
            )
        console.print(
            f"head {head.pk}: {head.rows} photos, tags {', '.join(head.labels)}; "
            f"{'active' if head.active else 'not active'}"
        )
        console.print(json.dumps(head.metrics, sort_keys=True))
