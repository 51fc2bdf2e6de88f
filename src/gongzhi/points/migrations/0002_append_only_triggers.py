"""On PostgreSQL the ledger's tables refuse UPDATE and DELETE in the database itself.

Postings, transactions and stock moves are append-only (see ``gongzhi.points.ledger``); the
models refuse changes, and these triggers refuse them from any other path (raw SQL, a shell).
``TRUNCATE`` (used by test runs to empty tables) is not a row operation and still works.
"""

from django.db import migrations

TABLES = ("points_posting", "points_transaction", "points_stockmove")

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION points_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'points ledger rows are append-only (% on %)', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION points_append_only()"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS points_append_only()")


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
