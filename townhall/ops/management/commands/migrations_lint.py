"""`townhall migrations_lint`: the migrations a rolling deploy survives (`make migrations-lint`).

Checks every Townhall migration that is not history (migrations-baseline.txt) with
django-migration-linter and the large-table index policy. docs/upgrading.md.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from townhall.ops.management.migration_policy import (
    BASELINE,
    lint,
    new_migrations,
    policy_problems,
)


class Command(BaseCommand):
    help = (
        "Check the migrations added since the baseline (townhall/ops/management/"
        "migrations-baseline.txt) for what breaks a running older version or locks a large "
        "table: django-migration-linter (NOT NULL without default, dropped or renamed "
        "columns, ...) and indexes on the large tables built CONCURRENTLY with atomic = "
        "False. Needs the test extras (django-migration-linter). See docs/upgrading.md."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--policy-only",
            action="store_true",
            help="Only the large-table index policy (no django-migration-linter).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        checked = new_migrations()
        self.stdout.write(
            f"{len(checked)} migration(s) after the baseline ({BASELINE.name}) to check."
        )
        problems = [p for key in sorted(checked) for p in policy_problems(checked[key])]
        for problem in problems:
            self.stderr.write(f"POLICY {problem}")
        errors = 0
        if checked and not options["policy_only"]:
            try:
                errors, _warnings = lint(checked, quiet=options["verbosity"] == 0)
            except RuntimeError as exc:
                raise CommandError(str(exc)) from exc
        if problems or errors:
            raise CommandError(
                f"{len(problems)} policy problem(s), {errors} migration(s) with linter errors: "
                "see docs/upgrading.md (expand/contract, indexes CONCURRENTLY)."
            )
        self.stdout.write(self.style.SUCCESS("Migrations OK for a rolling deploy."))
