"""`townhall assistant SUBCOMMAND`: the assistant's operations.

Sub-commands are registered in SUBCOMMANDS (name -> (adder, handler)): another module adds
one by writing its two functions and an entry, without touching the others.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from townhall.assistant.evaluation import (
    CLINC_SPLITS,
    clinc_rows,
    jsonl_rows,
    report_lines,
    understand_classifier,
    understanding_evaluate,
)

EVAL_HELP = """\
Measure understanding on labelled utterances and print one `name: value` per line:
rows, in_scope_accuracy, macro_f1, precision[SKILL] and recall[SKILL] for every skill seen,
oos_precision, oos_recall, ambiguous_rate, latency_p50_ms, latency_p95_ms.

FILE.jsonl holds one object a line: {"utterance": ..., "expected_skill": ...,
"language": "en"} (language optional, default en); expected_skill "out_of_scope" for a
message no skill should take. In-scope accuracy counts only rows expecting a skill.

Instead of a file, --clinc PATH reads CLINC150's JSON (clinc150_train_val.json) and
--split picks train or val (each with its out-of-scope sentences): every row expects
out_of_scope except the greeting, goodbye, thank_you and what_can_i_ask_you intents, which
expect our greeting skill (--strict: all out_of_scope). --write OUT.jsonl saves the rows
read and exits, so a benchmark set is one file.

examples:
  townhall assistant eval townhall/assistant/data/council_test.jsonl
  townhall assistant eval --split val \
      --clinc ../shared/data/intents_clinc150/clinc150_train_val.json
  townhall assistant eval --clinc clinc150_train_val.json --split val --write clinc_val.jsonl
"""


def _eval_add(sub: Any) -> None:
    parser = sub.add_parser(
        "eval",
        help="Measure understanding on labelled utterances (accuracy, F1, out of scope, latency).",
        description=EVAL_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", nargs="?", type=Path, help="labelled utterances, JSONL")
    parser.add_argument("--clinc", type=Path, help="CLINC150 JSON instead of FILE")
    parser.add_argument("--split", choices=sorted(CLINC_SPLITS), default="val")
    parser.add_argument("--strict", action="store_true", help="every CLINC row out of scope")
    parser.add_argument("--write", type=Path, metavar="OUT", help="write the rows as JSONL, exit")
    parser.add_argument(
        "--sparse-only", action="store_true", help="decide without the model (the fallback)"
    )
    parser.add_argument("--errors", type=int, default=0, metavar="N", help="also list N errors")


def _eval(command: BaseCommand, options: dict[str, Any]) -> None:
    path, clinc = options["file"], options["clinc"]
    if (path is None) == (clinc is None):
        raise CommandError("give either FILE.jsonl or --clinc PATH")
    source = clinc or path
    if not source.exists():
        raise CommandError(f"{source}: no such file")
    try:
        if clinc is not None:
            rows = clinc_rows(clinc, split=options["split"], strict=options["strict"])
        else:
            rows = jsonl_rows(path)
    except (ValueError, KeyError) as error:
        raise CommandError(f"{source}: {error}") from None
    if options["write"] is not None:
        with options["write"].open("w", encoding="utf-8") as handle:
            for row in rows:
                item = {"utterance": row.utterance, "expected_skill": row.expected}
                handle.write(json.dumps(item | {"language": row.language}) + "\n")
        command.stdout.write(f"rows: {len(rows)}")
        return
    if not rows:
        raise CommandError(f"{source}: no rows")
    report = understanding_evaluate(rows, understand_classifier(sparse_only=options["sparse_only"]))
    for line in report_lines(report):
        command.stdout.write(line)
    for utterance, expected, got in report.errors[: options["errors"]]:
        command.stderr.write(f"{expected} -> {got}: {utterance}")


SUBCOMMANDS: dict[str, tuple[Callable[[Any], None], Callable[[BaseCommand, dict[str, Any]], None]]]
SUBCOMMANDS = {"eval": (_eval_add, _eval)}


class Command(BaseCommand):
    help = "The assistant. Sub-commands: " + ", ".join(
        "eval (measure understanding on labelled utterances; eval --help)"
        if name == "eval"
        else name
        for name in SUBCOMMANDS
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="SUBCOMMAND")
        for adder, _ in SUBCOMMANDS.values():
            adder(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        _, handler = SUBCOMMANDS[options["action"]]
        handler(self, options)
