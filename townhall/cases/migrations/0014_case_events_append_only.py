"""On PostgreSQL, a trigger refuses UPDATE and DELETE on case events (append-only).

The table's owner can still disable the trigger: the daily signed seal (cases.ledger) is
what detects a rewrite by the owner. TRUNCATE (test databases) is not refused.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION cases_caseevent_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case events are append-only: % refused on event %', TG_OP, OLD.id
        USING ERRCODE = 'restrict_violation';
END
$$;
DROP TRIGGER IF EXISTS cases_caseevent_append_only ON cases_caseevent;
CREATE TRIGGER cases_caseevent_append_only
    BEFORE UPDATE OR DELETE ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION cases_caseevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS cases_caseevent_append_only ON cases_caseevent;
DROP FUNCTION IF EXISTS cases_caseevent_append_only();
"""


def _on_postgresql(sql: str):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0013_ledger_seals_and_personal_values")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
