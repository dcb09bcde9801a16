"""`make migrations-lint` (issue 19): new migrations must not break a running older version.

Synthetic migrations (never on disk) stand for what a developer might add next: the checks
must catch the bad ones and let the expand-style ones through.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import migrations, models

from townhall.core.migration_operations import AddIndexConcurrently
from townhall.ops.management.migration_policy import (
    baseline,
    lint,
    new_migrations,
    policy_problems,
    townhall_migrations,
)

CASES_HEAD = ("cases", "0014_case_events_append_only")


def _migration(name: str, *operations: Any, atomic: bool = True, app: str = "cases") -> Any:
    migration = migrations.Migration(name, app)
    migration.dependencies = [CASES_HEAD]
    migration.operations = list(operations)
    migration.atomic = atomic
    return migration


def test_every_migration_today_is_in_the_baseline_and_the_tree_passes(capsys: Any) -> None:
    history = baseline()
    assert set(townhall_migrations()) <= history | set(new_migrations())
    assert CASES_HEAD in history
    for migration in new_migrations().values():
        assert policy_problems(migration) == []
    call_command("migrations_lint", "--policy-only")
    assert "Migrations OK" in capsys.readouterr().out


def test_a_plain_index_on_a_large_table_is_caught() -> None:
    bad = _migration(
        "0099_case_channel_index",
        migrations.AddIndex("case", models.Index(fields=["channel"], name="case_channel")),
    )
    [problem] = policy_problems(bad)
    assert "cases.0099_case_channel_index" in problem and "AddIndexConcurrently" in problem


def test_a_concurrent_index_inside_a_transaction_is_caught_and_outside_it_passes() -> None:
    index = models.Index(fields=["channel"], name="case_channel")
    in_transaction = _migration("0099_x", AddIndexConcurrently("case", index), atomic=True)
    [problem] = policy_problems(in_transaction)
    assert "atomic = False" in problem
    assert (
        policy_problems(_migration("0099_x", AddIndexConcurrently("case", index), atomic=False))
        == []
    )


def test_a_plain_index_on_a_small_table_is_allowed() -> None:
    small = _migration(
        "0099_ok",
        migrations.AddIndex("timeentry", models.Index(fields=["minutes"], name="te_minutes")),
    )
    assert policy_problems(small) == []


@pytest.mark.parametrize(
    ("app", "operation", "words"),
    [
        (
            "notify",
            migrations.AddField(
                "notification",
                "batch",
                models.ForeignKey("cases.case", null=True, on_delete=models.SET_NULL),
            ),
            "db_index",
        ),
        (
            "insights",
            migrations.AddConstraint(
                "casefact",
                models.UniqueConstraint(fields=["case_id", "opened_at"], name="fact_once"),
            ),
            "unique constraint",
        ),
        (
            "intake",
            migrations.AlterField(
                "inboundmessage", "subject", models.CharField(max_length=9, db_index=True)
            ),
            "db_index",
        ),
        (
            "cases",
            migrations.RunSQL("CREATE INDEX ev_kind ON cases_caseevent (kind)"),
            "without CONCURRENTLY",
        ),
        (
            "cases",
            migrations.SeparateDatabaseAndState(
                database_operations=[
                    migrations.RunSQL("CREATE UNIQUE INDEX case_x ON cases_case (track_key)")
                ]
            ),
            "without CONCURRENTLY",
        ),
    ],
)
def test_other_ways_of_locking_a_large_table_are_caught(
    app: str, operation: Any, words: str
) -> None:
    [problem] = policy_problems(_migration("0099_bad", operation, app=app))
    assert words in problem


def test_a_concurrent_unique_index_by_sql_passes_outside_a_transaction() -> None:
    sql = migrations.RunSQL(
        "CREATE UNIQUE INDEX CONCURRENTLY case_x ON cases_case (track_key)",
        "DROP INDEX CONCURRENTLY case_x",
    )
    assert policy_problems(_migration("0099_ok", sql, atomic=False)) == []
    assert "atomic = False" in policy_problems(_migration("0099_ok", sql))[0]


@pytest.mark.django_db(transaction=True)  # the SQLite schema editor: not in a transaction
@pytest.mark.parametrize(
    ("operation", "bad"),
    [
        (migrations.AddField("case", "legacy", models.CharField(max_length=8)), True),
        (migrations.RemoveField("case", "media_url"), True),
        (migrations.RenameField("case", "media_url", "photo_url"), True),
        (migrations.AddField("case", "legacy", models.CharField(max_length=8, null=True)), False),
    ],
    ids=["not-null-without-default", "drop-column", "rename-column", "nullable-column"],
)
def test_the_migration_linter_refuses_what_breaks_the_running_version(
    operation: Any, bad: bool
) -> None:
    migration = _migration("0099_synthetic", operation)
    errors, _warnings = lint({("cases", "0099_synthetic"): migration}, quiet=True)
    assert errors == (1 if bad else 0)


@pytest.mark.django_db(transaction=True)
def test_the_concurrent_index_operations_run_on_this_database_engine() -> None:
    """CONCURRENTLY on PostgreSQL, a plain index on SQLite (Django's own fails there)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.loader import MigrationLoader

    from townhall.core.migration_operations import RemoveIndexConcurrently

    index = models.Index(fields=["minutes"], name="te_minutes_policy")
    add = AddIndexConcurrently("timeentry", index)
    before = MigrationLoader(connection).project_state(
        MigrationExecutor(connection).loader.graph.leaf_nodes(), at_end=True
    )
    after = before.clone()
    add.state_forwards("cases", after)

    def indexes() -> set[str]:
        with connection.cursor() as cursor:
            found = connection.introspection.get_constraints(cursor, "cases_timeentry")
        return {name for name, c in found.items() if c["index"]}

    with connection.schema_editor(atomic=False) as editor:
        add.database_forwards("cases", editor, before, after)
    assert "te_minutes_policy" in indexes()
    remove = RemoveIndexConcurrently("timeentry", "te_minutes_policy")
    with connection.schema_editor(atomic=False) as editor:
        remove.database_forwards("cases", editor, after, before)
    assert "te_minutes_policy" not in indexes()
