"""`townhall rules test|check|eval|schema`: run rule test cases, validate rule files, evaluate
one, write the rule files' JSON Schema."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from townhall.core.errors import DomainError, ValidationFailed
from townhall.rules.casebook import cases_run
from townhall.rules.evaluation import format_value, inputs_coerce, pick, programme_evaluate
from townhall.rules.library import (
    TESTS_SUFFIX,
    cases_file_for,
    cases_file_load,
    rules_file_for_tests,
    rules_file_load,
    rules_files,
)
from townhall.rules.selectors import programme_get
from townhall.rules.spec import SCHEMA_FILE, rules_json_schema_text


class Command(BaseCommand):
    help = (
        "Eligibility and permit rules. Sub-commands: test [FILE...] runs the YAML test cases; "
        "check FILE... validates rule files; eval ID --input key=value evaluates a programme; "
        "schema [--check] writes the JSON Schema of rule files for editors."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        test = sub.add_parser("test", help="Run rule test cases (default: every shipped file).")
        test.add_argument("files", nargs="*", help="Rule files or their .tests.yaml files.")
        check = sub.add_parser("check", help="Validate rule files and list every problem.")
        check.add_argument("files", nargs="+", help="Rule files (YAML).")
        run = sub.add_parser("eval", help="Evaluate a programme and explain the outcome.")
        run.add_argument("rule_id", help="Programme id, e.g. energy_subsidy.")
        run.add_argument(
            "--input",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="An answer (repeatable), e.g. --input household_size=3.",
        )
        run.add_argument("--date", help="Evaluate on this date (YYYY-MM-DD); default today.")
        run.add_argument("--language", default="en", help="en or es (default en).")
        schema = sub.add_parser("schema", help="Write the rule files' JSON Schema for editors.")
        schema.add_argument("--output", type=Path, default=SCHEMA_FILE, help="Where to write it.")
        schema.add_argument(
            "--check", action="store_true", help="Only fail if the file is not up to date."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "test":
                self._test([Path(f) for f in options["files"]])
            elif options["action"] == "check":
                self._check([Path(f) for f in options["files"]])
            elif options["action"] == "schema":
                self._schema(options["output"], check=options["check"])
            else:
                self._eval(options)
        except OSError as error:
            raise CommandError(f"{error.filename}: {error.strerror}") from None
        except DomainError as error:
            lines = [error.message]
            lines += [f"  {k}: {m}" for k, messages in error.details.items() for m in messages]
            raise CommandError("\n".join(lines)) from None

    def _test(self, files: list[Path]) -> None:
        targets = [rules_file_for_tests(f) if f.name.endswith(TESTS_SUFFIX) else f for f in files]
        failed = total = 0
        for path in targets or rules_files():
            rule = rules_file_load(path)
            cases_path = cases_file_for(path)
            if not cases_path.exists():
                self.stdout.write(f"{path.name}: no tests ({cases_path.name} missing)")
                continue
            for result in cases_run(rule, cases_file_load(cases_path)):
                total += 1
                if result.passed:
                    self.stdout.write(f"PASS {path.name}: {result.name}")
                else:
                    failed += 1
                    self.stdout.write(f"FAIL {path.name}: {result.name}")
                    for problem in result.problems:
                        self.stdout.write(f"     {problem}")
        if failed:
            raise CommandError(f"{failed} of {total} rule test(s) failed.")
        self.stdout.write(self.style.SUCCESS(f"OK: {total} rule test(s) passed."))

    def _check(self, files: list[Path]) -> None:
        bad = 0
        for path in files:
            try:
                rule = rules_file_load(path)
            except ValidationFailed as error:
                bad += 1
                self.stdout.write(f"INVALID {path}: {error.message}")
                for key, messages in error.details.items():
                    for message in messages:
                        self.stdout.write(f"  {key}: {message}")
            except OSError as error:
                bad += 1
                self.stdout.write(f"INVALID {path}: {error.strerror}")
            else:
                self.stdout.write(f"OK {path}: {rule.id}")
        if bad:
            raise CommandError(f"{bad} invalid rule file(s).")

    def _schema(self, output: Path, *, check: bool) -> None:
        text = rules_json_schema_text()
        if check:
            if not output.exists() or output.read_text(encoding="utf-8") != text:
                raise CommandError(f"{output} is out of date: run `townhall rules schema`.")
            self.stdout.write(f"OK {output}")
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {output}")

    def _eval(self, options: dict[str, Any]) -> None:
        programme = programme_get(rule_id=options["rule_id"])
        raw: dict[str, str] = {}
        for item in options["input"]:
            key, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--input {item!r}: expected KEY=VALUE")
            raw[key.strip()] = value
        on = date.fromisoformat(options["date"]) if options["date"] else timezone.localdate()
        language = options["language"]
        decision = programme_evaluate(
            programme, inputs=inputs_coerce(programme, raw), on=on, language=language
        )
        self.stdout.write(f"{pick(programme.title, language)} on {on.isoformat()}")
        self.stdout.write(f"Outcome: {decision.outcome}")
        if decision.amount is not None:
            self.stdout.write(
                f"Amount: {format_value(decision.amount, money=True, currency=programme.currency)}"
            )
        for condition in decision.conditions:
            marker = "*" if condition.id in decision.decided_by else " "
            self.stdout.write(
                f"{marker} [{condition.status}] {condition.id}: {condition.explanation}"
            )
        if decision.amount_explanation:
            self.stdout.write(f"  {decision.amount_explanation}")
        if decision.missing:
            self.stdout.write(f"Still needed: {', '.join(decision.missing)}")
        if decision.not_needed:
            self.stdout.write(f"Not needed (already decided): {', '.join(decision.not_needed)}")
        self.stdout.write(f"Source: {decision.source}")
