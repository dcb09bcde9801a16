"""On PostgreSQL, triggers refuse UPDATE and DELETE on notice events and notices seals
(append-only), as on case events (cases 0014); the signed seal catches an owner who
switches them off. TRUNCATE (test databases) is not refused."""

from django.db import migrations

TABLES = ("notices_noticeevent", "notices_noticeseal")

CREATE = """
CREATE OR REPLACE FUNCTION notices_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused on row %', TG_TABLE_NAME, TG_OP, OLD.id
        USING ERRCODE = 'restrict_violation';
END
$$;
""" + "".join(
    f"""
DROP TRIGGER IF EXISTS {t}_append_only ON {t};
CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t}
    FOR EACH ROW EXECUTE FUNCTION notices_append_only();
"""
    for t in TABLES
)

DROP = "".join(f"DROP TRIGGER IF EXISTS {t}_append_only ON {t};\n" for t in TABLES) + (
    "DROP FUNCTION IF EXISTS notices_append_only();\n"
)


def _on_postgresql(sql: str):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("notices", "0001_initial")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
