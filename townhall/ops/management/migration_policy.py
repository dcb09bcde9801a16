"""Which migrations a running Townhall survives: the checks of `make migrations-lint`.

Migrations listed in ``migrations-baseline.txt`` (beside this file) are history: they
shipped before the policy (issue 19) or were reviewed as a contract step of an
expand/contract change. Every other migration of a Townhall app is checked twice:

- by django-migration-linter (NOT NULL columns without a default, dropped or renamed
  columns and tables, changed column types, ...): what an old version still running
  during a rolling deploy would trip over;
- by :func:`policy_problems`: an index or unique constraint on a large table must be
  built without a write lock on PostgreSQL, i.e. with ``AddIndexConcurrently`` (from
  ``townhall.core.migration_operations``, or Django's) in a migration with
  ``atomic = False``.

docs/upgrading.md explains the policy and how to write such migrations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation
from django.db.models import UniqueConstraint

BASELINE = Path(__file__).with_name("migrations-baseline.txt")

# (app label, model name): the tables that grow with every case, message and notification.
LARGE_MODELS = frozenset(
    {
        ("cases", "case"),
        ("cases", "caseevent"),
        ("cases", "caseeventpersonal"),
        ("cases", "sealedhead"),
        ("notify", "notification"),
        ("notify", "deliveryattempt"),
        ("insights", "casefact"),
        ("insights", "dailyrollup"),
        ("intake", "inboundmessage"),
        ("assistant", "turn"),
        ("people", "personevent"),
    }
)
LARGE_TABLES = frozenset(f"{app}_{model}" for app, model in LARGE_MODELS)
_CREATE_INDEX = re.compile(r"\bCREATE\s+(UNIQUE\s+)?INDEX\b(?!\s+CONCURRENTLY)", re.IGNORECASE)
_DROP_INDEX = re.compile(r"\bDROP\s+INDEX\b(?!\s+CONCURRENTLY)", re.IGNORECASE)
_CONCURRENTLY = re.compile(r"\bINDEX\s+CONCURRENTLY\b", re.IGNORECASE)


def baseline(path: Path = BASELINE) -> set[tuple[str, str]]:
    """The (app, migration) pairs that are history: one ``app.name`` a line, # comments."""
    pairs: set[tuple[str, str]] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            app, _, name = entry.partition(".")
            pairs.add((app, name))
    return pairs


def townhall_migrations() -> dict[tuple[str, str], migrations.Migration]:
    """Every migration on disk of the apps under the townhall package."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {
        key: migration
        for key, migration in loader.disk_migrations.items()
        if type(migration).__module__.startswith("townhall.")
    }


def new_migrations() -> dict[tuple[str, str], migrations.Migration]:
    """The migrations the policy checks: the Townhall ones not in the baseline."""
    history = baseline()
    return {k: m for k, m in townhall_migrations().items() if k not in history}


def _flatten(operations: Iterable[Operation]) -> Iterator[Operation]:
    for op in operations:
        if isinstance(op, migrations.SeparateDatabaseAndState):
            yield from _flatten(op.database_operations)
        else:
            yield op


def _sql_text(op: migrations.RunSQL) -> str:
    parts: list[str] = []

    def collect(sql: object) -> None:
        if isinstance(sql, str):
            parts.append(sql)
        elif isinstance(sql, list | tuple):
            for item in sql:
                collect(item[0] if isinstance(item, list | tuple) else item)

    collect(op.sql)
    return "\n".join(parts)


def _indexed(field: object) -> bool:
    return bool(getattr(field, "db_index", False) or getattr(field, "unique", False))


def _unique(op: Operation) -> str:
    """The name of the unique constraint an AddConstraint adds ('' for other constraints)."""
    constraint = vars(op).get("constraint")
    return str(constraint.name) if isinstance(constraint, UniqueConstraint) else ""


def policy_problems(migration: migrations.Migration) -> list[str]:
    """What in `migration` would lock a large table against writes on PostgreSQL."""
    app = migration.app_label
    where = f"{app}.{migration.name}"
    problems: list[str] = []
    concurrent = False
    for op in _flatten(migration.operations):
        model = str(getattr(op, "model_name", getattr(op, "name", "")) or "").lower()
        large = (app, model) in LARGE_MODELS
        if isinstance(op, AddIndexConcurrently | RemoveIndexConcurrently):
            concurrent = True
            continue
        if isinstance(op, migrations.AddIndex) and large:
            problems.append(
                f"{where}: AddIndex {op.index.name!r} on {app}.{model} locks the table against "
                "writes; use AddIndexConcurrently (townhall.core.migration_operations) in a "
                "migration with atomic = False."
            )
        elif isinstance(op, migrations.RemoveIndex) and large:
            problems.append(
                f"{where}: RemoveIndex {op.name!r} on {app}.{model}: use RemoveIndexConcurrently "
                "(townhall.core.migration_operations) with atomic = False."
            )
        elif isinstance(op, migrations.AddConstraint) and large and _unique(op):
            problems.append(
                f"{where}: unique constraint {_unique(op)!r} on {app}.{model} is built "
                "under a write lock; build its unique index CONCURRENTLY first (RunSQL inside "
                "SeparateDatabaseAndState, atomic = False), then ADD CONSTRAINT … USING INDEX."
            )
        elif isinstance(op, migrations.AlterUniqueTogether) and large and op.unique_together:
            problems.append(
                f"{where}: unique_together on {app}.{model} is built under a write lock; use "
                "a UniqueConstraint built from an index made CONCURRENTLY."
            )
        elif (
            isinstance(op, migrations.AddField | migrations.AlterField)
            and large
            and _indexed(op.field)
        ):
            problems.append(
                f"{where}: field {op.name!r} on {app}.{model} has db_index/unique (a foreign "
                "key has db_index by default): add it with db_index=False, then the index "
                "with AddIndexConcurrently (atomic = False)."
            )
        elif isinstance(op, migrations.RunSQL):
            sql = _sql_text(op)
            if _CONCURRENTLY.search(sql):
                concurrent = True
            touched = {t for t in LARGE_TABLES if re.search(rf"\b{t}\b", sql)}
            if touched and (_CREATE_INDEX.search(sql) or _DROP_INDEX.search(sql)):
                problems.append(
                    f"{where}: RunSQL creates or drops an index on {', '.join(sorted(touched))} "
                    "without CONCURRENTLY (atomic = False)."
                )
    if concurrent and migration.atomic:
        problems.append(
            f"{where}: CONCURRENTLY cannot run inside a transaction: set atomic = False on "
            "the Migration (and keep the concurrent operation alone in it)."
        )
    return problems


def linter_options(pyproject: Path | None = None) -> dict[str, object]:
    """The [tool.django_migration_linter] section of pyproject.toml (when there is one)."""
    import tomllib

    path = pyproject or Path.cwd() / "pyproject.toml"
    if not path.is_file():
        return {}
    section = tomllib.loads(path.read_text(encoding="utf-8"))
    found: dict[str, object] = section.get("tool", {}).get("django_migration_linter", {})
    return found


def lint(
    checked: dict[tuple[str, str], migrations.Migration], *, quiet: bool = False
) -> tuple[int, int]:
    """Run django-migration-linter on `checked`; return (errors, warnings).

    Migrations not on disk (the tests' synthetic ones) are compiled to SQL here, after the
    state of their dependencies, as ``sqlmigrate`` does for the others.
    """
    try:
        from django_migration_linter import MigrationLinter
    except ImportError as exc:  # a test tool, not a runtime dependency
        raise RuntimeError(
            "django-migration-linter is not installed: pip install -e '.[test]'"
        ) from exc
    from django.db import connection

    options = linter_options()
    warnings_as_errors = options.get("warnings_as_errors", [])
    excluded = options.get("exclude_migration_tests", [])

    class Linter(MigrationLinter):
        @staticmethod
        def get_migration_hash(app_label: str, migration_name: str) -> str:
            return f"{app_label}.{migration_name}"  # no cache: never read

        def get_sql(self, app_label: str, migration_name: str) -> list[str]:
            migration = checked[(app_label, migration_name)]
            if (app_label, migration_name) in self.migration_loader.disk_migrations:
                result: list[str] = super().get_sql(app_label, migration_name)
                return result
            state = self.migration_loader.project_state(tuple(migration.dependencies), at_end=True)
            with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
                migration.apply(state, editor, collect_sql=True)
            sql = "\n".join(editor.collected_sql).splitlines()
            if migration.atomic and connection.features.can_rollback_ddl:
                sql = ["BEGIN;", *sql, "COMMIT;"]
            return sql

    linter = Linter(
        None,
        no_cache=True,
        exclude_migration_tests=excluded if isinstance(excluded, list) else [],
        warnings_as_errors_tests=warnings_as_errors if isinstance(warnings_as_errors, list) else [],
        all_warnings_as_errors=warnings_as_errors is True,
        no_output=quiet,
    )
    for key in sorted(checked):
        linter.lint_migration(checked[key])
    if not quiet:
        linter.print_summary()
    return linter.nb_erroneous, linter.nb_warnings
